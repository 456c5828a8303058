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

units as (
    select
        funnel,
        unit_id,
        max(level) as furthest_step,
        -- the highest level first, then the earliest attempt: the least of these structs, which
        -- compare field by field (the customer comes along)
        min(struct_pack(descending_level := -level, entered_at, attempt_id, customer_id))
            as representative,
        -- the window that closes last among the attempts at the furthest step
        max(struct_pack(level, closes_at)).closes_at as furthest_closes_at
    from attempts
    group by funnel, unit_id
)

select
    cast(u.funnel as varchar) as funnel,
    cast(u.unit_id as varchar) as unit_id,
    cast(u.representative.customer_id as varchar) as customer_id,
    cast(u.representative.attempt_id as bigint) as attempt_id,
    cast(u.representative.entered_at as timestamp) as entered_at,
    cast(u.furthest_step as integer) as furthest_step,
    cast(u.furthest_step < f.steps and u.furthest_closes_at >= l.latest_at as boolean)
        as in_progress
from units as u
inner join config.funnels as f on f.funnel = u.funnel
cross join latest as l
