-- When each customer first entered each journey stage (`journey.stages` in funnel.yaml), and
-- the event that took them there.
-- Grain: one row per (customer, stage reached). Primary key: (customer_id, stage_index).
-- A stage is entered at the first event matching it (at the n-th for a stage with
-- `occurrence: n`, e.g. retention = a second purchase), whatever the stages before it.
with entries as (
    -- a unit's events are numbered in time order (unit_seq): the first is the lowest
    select
        s.unit_key,
        s.step_index,
        min_by(s.occurred_at, s.unit_seq) as occurred_at,
        min_by(s.source, s.unit_seq) as source,
        min_by(s.event_id, s.unit_seq) as event_id
    from intermediate.int_funnels__step_events as s
    where s.funnel = 'journey' and s.step_index is not null
    group by s.unit_key, s.step_index
)

select
    cast(u.customer_id as varchar) as customer_id,
    cast(e.step_index as integer) as stage_index,
    cast(st.step_name as varchar) as stage,
    cast(e.occurred_at as timestamp) as entered_at,
    cast(e.source as varchar) as source,
    cast(e.event_id as varchar) as event_id
from entries as e
inner join intermediate.int_funnels__unit_keys as u on u.unit_key = e.unit_key
inner join config.funnel_steps as st on st.funnel = 'journey' and st.step_index = e.step_index
