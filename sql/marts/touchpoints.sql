-- Each customer's timeline of touchpoints across sources: what an analyst reads to follow one
-- journey. Grain: one row per event. Primary key: (customer_id, touch_index).
-- stage_reached: the furthest journey stage this event took the customer into (null if none).
with events as (
    select * from marts.events
),

stage_entries as (
    select source, event_id, max(stage_index) as stage_index
    from marts.customer_stages
    group by source, event_id
)

select
    cast(e.customer_id as varchar) as customer_id,
    cast(row_number() over (
        partition by e.customer_id order by e.occurred_at, e.source, e.event_id
    ) as bigint) as touch_index,
    cast(e.occurred_at as timestamp) as occurred_at,
    cast(e.source as varchar) as source,
    cast(e.event_id as varchar) as event_id,
    cast(e.event_name as varchar) as event_name,
    cast(e.session_id as varchar) as session_id,
    cast(e.channel as varchar) as channel,
    cast(e.page_path as varchar) as page_path,
    cast(st.step_name as varchar) as stage_reached
from events as e
left join stage_entries as s on s.source = e.source and s.event_id = e.event_id
left join config.funnel_steps as st on st.funnel = 'journey' and st.step_index = s.stage_index
