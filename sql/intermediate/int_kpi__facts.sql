-- The definition of every KPI, in one place: per day (UTC) and acquisition channel of the
-- customer, each KPI's numerator and denominator. marts.kpi_daily and marts.kpi_by_channel add
-- them up; a rate is always sum(numerator) / sum(denominator), never an average of rates.
-- Grain: one row per (day, acquisition_channel, kpi). `kind`: count (value = numerator), rate
-- (numerator / denominator, 0..1), ratio (numerator / denominator), score (100 * numerator /
-- denominator).
-- Purchases are the events of the journey's purchase stage (`journey.purchase_stage`: by
-- default web 'Order Completed' and CRM 'deal_won'). E-mail rates follow each message
-- (customer and campaign) from the day it was delivered (bounces: sent), so they re-aggregate.
with channels as (
    select customer_id, acquisition_channel from marts.customer_journeys
),

sessions as (
    select s.*, cast(s.started_at as date) as day from marts.sessions as s
),

purchase_events as (
    select e.*, cast(e.occurred_at as date) as day
    from marts.events as e
    inner join intermediate.int_funnels__step_events as s
        on s.source = e.source and s.event_id = e.event_id
    inner join config.funnel_steps as st
        on st.funnel = s.funnel and st.step_index = s.step_index
    where s.funnel = 'journey' and st.step_name = $purchase_stage
),

first_purchase as (
    select customer_id, min(occurred_at) as first_purchase_at
    from purchase_events
    group by customer_id
),

session_purchases as (
    select distinct session_id from purchase_events where session_id is not null
),

visitors as (
    select distinct day, customer_id from sessions
),

purchasers as (
    select distinct
        p.day,
        p.customer_id,
        case when p.occurred_at > f.first_purchase_at then 1 else 0 end as is_repeat
    from purchase_events as p
    inner join first_purchase as f on f.customer_id = p.customer_id
),

purchaser_days as (
    select day, customer_id, max(is_repeat) as is_repeat from purchasers group by day, customer_id
),

email_events as (
    select e.*, cast(e.occurred_at as date) as day
    from marts.events as e
    where e.source = 'email'
),

messages as (
    select
        customer_id,
        coalesce(email_campaign_id, '') as campaign,
        min(case when event_type = 'sent' then day end) as sent_day,
        min(case when event_type = 'delivered' then day end) as delivered_day,
        max(case when event_type = 'open' then 1 else 0 end) as opened,
        max(case when event_type = 'click' then 1 else 0 end) as clicked,
        max(case when event_type = 'bounce' then 1 else 0 end) as bounced,
        max(case when event_type = 'unsubscribe' then 1 else 0 end) as unsubscribed
    from email_events
    group by customer_id, coalesce(email_campaign_id, '')
),

crm as (
    select e.*, cast(e.occurred_at as date) as day from marts.events as e where e.source = 'crm'
),

facts as (
    -- visitors: customers with a web session that day
    select day, customer_id, 'visitors' as kpi, 'count' as kind, 1 as num, null as den
    from visitors
    -- sessions, engaged sessions, bounce rate (sessions that are not engaged / sessions)
    union all
    select day, customer_id, 'sessions', 'count', 1, null from sessions
    union all
    select day, customer_id, 'engaged_sessions', 'count', case when is_engaged then 1 else 0 end,
        null
    from sessions
    union all
    select day, customer_id, 'bounce_rate', 'rate', case when is_bounce then 1 else 0 end, 1
    from sessions
    -- session conversion rate: sessions with a purchase / sessions
    union all
    select s.day, s.customer_id, 'session_conversion_rate', 'rate',
        case when p.session_id is not null then 1 else 0 end, 1
    from sessions as s
    left join session_purchases as p on p.session_id = s.session_id
    -- customer conversion rate: visitors of the day who purchased that day / visitors
    union all
    select v.day, v.customer_id, 'customer_conversion_rate', 'rate',
        case when p.customer_id is not null then 1 else 0 end, 1
    from visitors as v
    left join purchaser_days as p on p.day = v.day and p.customer_id = v.customer_id
    -- orders, revenue, average order value (revenue / orders)
    union all
    select day, customer_id, 'orders', 'count', 1, null from purchase_events
    union all
    select day, customer_id, 'revenue', 'count', coalesce(revenue, 0), null from purchase_events
    union all
    select day, customer_id, 'average_order_value', 'ratio', coalesce(revenue, 0), 1
    from purchase_events
    -- repeat purchase rate: purchasers of the day who had purchased before / purchasers
    union all
    select day, customer_id, 'repeat_purchase_rate', 'rate', is_repeat, 1 from purchaser_days
    -- e-mail: sent and delivered events; rates per message, by delivery (bounces: send) day
    union all
    select day, customer_id, 'emails_sent', 'count', 1, null
    from email_events where event_type = 'sent'
    union all
    select day, customer_id, 'emails_delivered', 'count', 1, null
    from email_events where event_type = 'delivered'
    union all
    select delivered_day, customer_id, 'email_open_rate', 'rate', opened, 1
    from messages where delivered_day is not null
    union all
    select delivered_day, customer_id, 'email_click_rate', 'rate', clicked, 1
    from messages where delivered_day is not null
    union all
    select delivered_day, customer_id, 'email_click_to_open_rate', 'rate', clicked, 1
    from messages where delivered_day is not null and opened = 1
    union all
    select delivered_day, customer_id, 'email_unsubscribe_rate', 'rate', unsubscribed, 1
    from messages where delivered_day is not null
    union all
    select sent_day, customer_id, 'email_bounce_rate', 'rate', bounced, 1
    from messages where sent_day is not null
    -- CRM: new leads (contacts created), deals won, win rate (won / won + lost), referrals
    union all
    select day, customer_id, 'new_leads', 'count', 1, null
    from crm where event_type = 'contact_created'
    union all
    select day, customer_id, 'deals_won', 'count', 1, null from crm where event_type = 'deal_won'
    union all
    select day, customer_id, 'deal_win_rate', 'rate',
        case when event_type = 'deal_won' then 1 else 0 end, 1
    from crm where event_type in ('deal_won', 'deal_lost')
    union all
    select day, customer_id, 'referrals', 'count', 1, null
    from crm where event_type = 'referral_made'
    -- NPS: 100 * (promoters 9-10 - detractors 0-6) / responses, from -100 to 100
    union all
    select day, customer_id, 'nps', 'score',
        case when score >= 9 then 1 when score <= 6 then -1 else 0 end, 1
    from crm where event_type = 'nps_response' and score is not null
)

select
    cast(f.day as date) as day,
    cast(coalesce(c.acquisition_channel, '(none)') as varchar) as acquisition_channel,
    cast(f.kpi as varchar) as kpi,
    cast(f.kind as varchar) as kind,
    cast(sum(f.num) as double) as numerator,
    cast(sum(f.den) as double) as denominator
from facts as f
left join channels as c on c.customer_id = f.customer_id
group by f.day, coalesce(c.acquisition_channel, '(none)'), f.kpi, f.kind
