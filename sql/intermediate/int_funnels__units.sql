-- Each unit's result in each funnel: the furthest step any of its attempts reached.
-- Grain: one row per (funnel, unit). Primary key: (funnel, unit_id). A unit is a customer, or
-- a session for a funnel counted by session; units whose every attempt was voided by an
-- exclusion are not in the funnel.
-- The representative attempt (its step times feed time-to-convert) is the earliest attempt that
-- reached the furthest step. A unit is `in_progress` when it has not reached the last step and
-- an attempt at its furthest step still has an open window at the latest event in the warehouse.
with attempts as (
    select * from intermediate.int_funnels__attempts where not is_voided
),

latest as (
    select max(occurred_at) as latest_at from marts.events
),

ranked as (
    select
        a.*,
        max(a.level) over (partition by a.funnel, a.unit_id) as furthest_step,
        row_number() over (
            partition by a.funnel, a.unit_id order by a.level desc, a.entered_at, a.attempt_id
        ) as pick
    from attempts as a
),

open_at_furthest as (
    select
        r.funnel,
        r.unit_id,
        max(case when r.closes_at >= l.latest_at then 1 else 0 end) = 1 as is_open
    from ranked as r
    cross join latest as l
    where r.level = r.furthest_step
    group by r.funnel, r.unit_id
)

select
    cast(r.funnel as varchar) as funnel,
    cast(r.unit_id as varchar) as unit_id,
    cast(r.customer_id as varchar) as customer_id,
    cast(r.attempt_id as bigint) as attempt_id,
    cast(r.entered_at as timestamp) as entered_at,
    cast(r.furthest_step as integer) as furthest_step,
    cast(r.furthest_step < f.steps and o.is_open as boolean) as in_progress
from ranked as r
inner join config.funnels as f on f.funnel = r.funnel
inner join open_at_furthest as o on o.funnel = r.funnel and o.unit_id = r.unit_id
where r.pick = 1
