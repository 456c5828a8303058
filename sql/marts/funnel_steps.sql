-- Funnel step counts: every configured funnel and the journey funnel ('journey'), overall
-- (breakdown = 'all') and by each configured breakdown.
-- Grain: one row per (funnel, breakdown, breakdown_value, step_index). Primary key: those four.
--
-- customers: units (customers, or sessions for a funnel counted by session) whose furthest
-- step is at least this one. dropped: reached the previous step, not this one, and no attempt
-- that could still get there is open. in_progress: reached the previous step and an attempt at
-- it is still open at the latest event in the warehouse. So customers(k) = customers(k + 1) +
-- dropped(k + 1) + in_progress(k + 1). conversion_rate: from the previous step (1 at step 1);
-- overall_conversion_rate: from step 1. median_seconds_to_convert, p90_seconds_to_convert: from
-- the previous step, in each unit's representative attempt (null at step 1).
-- Breakdowns: acquisition_channel, first_touch_campaign (customer_journeys), entry_cohort_month
-- (month of the representative attempt's step 1, 'YYYY-MM'), or any column of marts.customers
-- or marts.customer_journeys; a missing value is '(none)'.
with units as (
    select * from intermediate.int_funnels__units
),

steps as (
    select * from config.funnel_steps
),

profiles as (
    select
        c.customer_id,
        to_json(c) as customer,
        to_json(j) as journey,
        j.acquisition_channel,
        j.first_touch_campaign
    from marts.customers as c
    left join marts.customer_journeys as j on j.customer_id = c.customer_id
),

breakdown_values as (
    select funnel, unit_id, 'all' as breakdown, 'all' as breakdown_value
    from units
    union all
    select
        u.funnel,
        u.unit_id,
        b.breakdown,
        coalesce(
            case b.breakdown
                when 'acquisition_channel' then p.acquisition_channel
                when 'first_touch_campaign' then p.first_touch_campaign
                when 'entry_cohort_month' then strftime(u.entered_at, '%Y-%m')
                else coalesce(
                    json_extract_string(p.customer, '$.' || b.breakdown),
                    json_extract_string(p.journey, '$.' || b.breakdown)
                )
            end,
            '(none)'
        ) as breakdown_value
    from units as u
    inner join config.funnel_breakdowns as b on b.funnel = u.funnel
    left join profiles as p on p.customer_id = u.customer_id
),

durations as (
    select
        u.funnel,
        u.unit_id,
        cur.step_index,
        date_diff('millisecond', prev.occurred_at, cur.occurred_at) / 1000.0 as seconds
    from units as u
    inner join intermediate.int_funnels__attempt_steps as cur on cur.attempt_id = u.attempt_id
    inner join intermediate.int_funnels__attempt_steps as prev
        on prev.attempt_id = u.attempt_id and prev.step_index = cur.step_index - 1
),

counted as (
    select
        bv.funnel,
        bv.breakdown,
        bv.breakdown_value,
        s.step_index,
        s.step_name,
        sum(case when u.furthest_step >= s.step_index then 1 else 0 end) as customers,
        sum(case when u.furthest_step = s.step_index - 1 and not u.in_progress then 1 else 0 end)
            as dropped,
        sum(case when u.furthest_step = s.step_index - 1 and u.in_progress then 1 else 0 end)
            as in_progress,
        quantile_cont(d.seconds, 0.5) as median_seconds_to_convert,
        quantile_cont(d.seconds, 0.9) as p90_seconds_to_convert
    from breakdown_values as bv
    inner join units as u on u.funnel = bv.funnel and u.unit_id = bv.unit_id
    inner join steps as s on s.funnel = bv.funnel
    left join durations as d
        on d.funnel = u.funnel and d.unit_id = u.unit_id and d.step_index = s.step_index
    group by bv.funnel, bv.breakdown, bv.breakdown_value, s.step_index, s.step_name
),

rated as (
    select
        *,
        lag(customers) over (
            partition by funnel, breakdown, breakdown_value order by step_index
        ) as previous_customers,
        first_value(customers) over (
            partition by funnel, breakdown, breakdown_value order by step_index
        ) as first_customers
    from counted
)

select
    cast(funnel as varchar) as funnel,
    cast(breakdown as varchar) as breakdown,
    cast(breakdown_value as varchar) as breakdown_value,
    cast(step_index as integer) as step_index,
    cast(step_name as varchar) as step_name,
    cast(customers as bigint) as customers,
    cast(case
        when previous_customers is null then 1.0
        when previous_customers = 0 then 0.0
        else customers / previous_customers
    end as double) as conversion_rate,
    cast(case when first_customers = 0 then 0.0 else customers / first_customers end as double)
        as overall_conversion_rate,
    cast(dropped as bigint) as dropped,
    cast(in_progress as bigint) as in_progress,
    cast(median_seconds_to_convert as double) as median_seconds_to_convert,
    cast(p90_seconds_to_convert as double) as p90_seconds_to_convert
from rated
