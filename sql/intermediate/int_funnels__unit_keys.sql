-- The units each funnel counts, numbered: every customer with an event, or every session for a
-- funnel counted by session. Grain: one row per (funnel, unit). Primary key: unit_key.
-- `unit_key` is one integer per (funnel, unit): the funnel's base (its rank times 2^32) plus
-- the unit's number, in the order of unit ids. The step events and the attempts partition,
-- sort and join on it and carry neither the unit's id nor its customer, which are looked up
-- here once per unit. A session's customer is the session's (`marts.sessions`).
with funnel_keys as (
    select funnel, count_by, row_number() over (order by funnel) * 4294967296 as key_base
    from config.funnels
),

units as (
    select 'customer' as count_by, customer_id as unit_id, customer_id,
        row_number() over (order by customer_id) as unit_number
    from (
        select distinct customer_id
        from marts.events
        where 'customer' in (select count_by from config.funnels)
    ) as c
    union all
    select 'session', session_id, customer_id, row_number() over (order by session_id)
    from marts.sessions
    where 'session' in (select count_by from config.funnels)
)

select
    cast(k.funnel as varchar) as funnel,
    cast(u.unit_id as varchar) as unit_id,
    cast(k.key_base + u.unit_number as bigint) as unit_key,
    cast(u.customer_id as varchar) as customer_id
from funnel_keys as k
inner join units as u on u.count_by = k.count_by
