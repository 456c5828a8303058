-- Funnel conversion by entry week and entry month: units that entered (their representative
-- attempt's step 1 fell in the period) and those that reached the last step.
-- Grain: one row per (funnel, period, period_start). Primary key: those three.
-- period: 'week' (weeks start on Monday) or 'month'.
with units as (
    select u.*, f.steps
    from intermediate.int_funnels__units as u
    inner join config.funnels as f on f.funnel = u.funnel
),

periods as (
    select funnel, 'week' as period, date_trunc('week', entered_at) as period_start,
        furthest_step, steps, in_progress
    from units
    union all
    select funnel, 'month', date_trunc('month', entered_at), furthest_step, steps, in_progress
    from units
)

select
    cast(funnel as varchar) as funnel,
    cast(period as varchar) as period,
    cast(period_start as date) as period_start,
    cast(count(*) as bigint) as entered,
    cast(sum(case when furthest_step = steps then 1 else 0 end) as bigint) as converted,
    cast(sum(case when in_progress then 1 else 0 end) as bigint) as in_progress,
    cast(sum(case when furthest_step = steps then 1 else 0 end) / count(*) as double)
        as conversion_rate
from periods
group by funnel, period, period_start
