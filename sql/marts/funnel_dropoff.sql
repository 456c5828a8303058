-- Drop-off: where and after what units abandon a funnel (the 'obstacles' view).
-- Grain: one row per (funnel, step_index, dimension, value). Primary key: those four.
-- For each step k >= 2, the units that dropped there (reached step k - 1, not step k, window
-- closed) and the last thing each did before leaving: its last event between reaching step
-- k - 1 and the close of that attempt's window (the step k - 1 event itself if nothing came
-- after). dimension: 'event' (event name), 'page' (page path of the last web event with a
-- page), 'channel'. The `$dropoff_top` most common values per dimension, with counts and their
-- share of the units that dropped at that step.
with units as (
    select u.*, f.steps, f.count_by
    from intermediate.int_funnels__units as u
    inner join config.funnels as f on f.funnel = u.funnel
    where not u.in_progress and u.furthest_step < f.steps
),

dropped as (
    select u.*, a.closes_at, s.occurred_at as reached_at
    from units as u
    inner join intermediate.int_funnels__attempts as a on a.attempt_id = u.attempt_id
    inner join intermediate.int_funnels__attempt_steps as s
        on s.attempt_id = u.attempt_id and s.step_index = u.furthest_step
),

after_last_step as (
    select d.funnel, d.unit_id, d.furthest_step + 1 as step_index, e.*
    from dropped as d
    inner join marts.events as e
        on e.customer_id = d.customer_id
        and (d.count_by = 'customer' or e.session_id = d.unit_id)
        and e.occurred_at >= d.reached_at
        and e.occurred_at <= d.closes_at
),

last_event as (
    select funnel, unit_id, step_index, event_name, channel,
        row_number() over (
            partition by funnel, unit_id order by occurred_at desc, source desc, event_id desc
        ) as n
    from after_last_step
),

last_page as (
    select funnel, unit_id, step_index, page_path,
        row_number() over (
            partition by funnel, unit_id order by occurred_at desc, source desc, event_id desc
        ) as n
    from after_last_step
    where page_path is not null
),

answers as (
    select funnel, step_index, unit_id, 'event' as dimension, event_name as value
    from last_event where n = 1
    union all
    select funnel, step_index, unit_id, 'channel', coalesce(channel, '(none)')
    from last_event where n = 1
    union all
    select d.funnel, d.furthest_step + 1, d.unit_id, 'page', coalesce(p.page_path, '(none)')
    from dropped as d
    left join last_page as p on p.funnel = d.funnel and p.unit_id = d.unit_id and p.n = 1
),

counted as (
    select
        funnel,
        step_index,
        dimension,
        value,
        count(*) as customers,
        sum(count(*)) over (partition by funnel, step_index, dimension) as dropped
    from answers
    group by funnel, step_index, dimension, value
),

ranked as (
    select
        *,
        row_number() over (
            partition by funnel, step_index, dimension order by customers desc, value
        ) as rank
    from counted
)

select
    cast(r.funnel as varchar) as funnel,
    cast(r.step_index as integer) as step_index,
    cast(s.step_name as varchar) as step_name,
    cast(r.dimension as varchar) as dimension,
    cast(r.value as varchar) as value,
    cast(r.rank as integer) as rank,
    cast(r.customers as bigint) as customers,
    cast(r.dropped as bigint) as dropped,
    cast(r.customers / r.dropped as double) as share
from ranked as r
inner join config.funnel_steps as s on s.funnel = r.funnel and s.step_index = r.step_index
where r.rank <= $dropoff_top
