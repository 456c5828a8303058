-- When each customer first entered each journey stage (`journey.stages` in funnel.yaml), and
-- the event that took them there.
-- Grain: one row per (customer, stage reached). Primary key: (customer_id, stage_index).
-- A stage is entered at the first event matching it (at the n-th for a stage with
-- `occurrence: n`, e.g. retention = a second purchase), whatever the stages before it.
with entries as (
    select
        s.*,
        row_number() over (
            partition by s.customer_id, s.step_index order by s.unit_seq
        ) as entry
    from intermediate.int_funnels__step_events as s
    where s.funnel = 'journey' and s.step_index is not null
)

select
    cast(e.customer_id as varchar) as customer_id,
    cast(e.step_index as integer) as stage_index,
    cast(st.step_name as varchar) as stage,
    cast(e.occurred_at as timestamp) as entered_at,
    cast(e.source as varchar) as source,
    cast(e.event_id as varchar) as event_id
from entries as e
inner join config.funnel_steps as st on st.funnel = 'journey' and st.step_index = e.step_index
where e.entry = 1
