-- One row per customer: where they came from, how far they got, and their path to purchase.
-- Grain: one row per customer. Primary key: customer_id.
-- acquisition_channel: the channel of the customer's first touch (first event of any source:
-- a web session's channel, 'Email' for an e-mail event, the CRM's recorded channel for a CRM
-- activity; '(none)' when that is empty). first_touch_campaign: that event's campaign name
-- (web utm_campaign or e-mail campaign). current_stage: the furthest journey stage reached.
-- stage_entered_at: JSON, each stage reached -> when first entered (UTC), e.g.
-- stage_entered_at ->> 'purchase'; the same as rows in marts.customer_stages.
-- The purchase stage is `journey.purchase_stage`; touchpoints and sessions are counted strictly
-- before the first purchase, days from the first touch to it.
-- Event-grain tables read more than once are read directly (see the README's Development).
with touches as (
    -- the first touch is the first event by (occurred_at, source, event_id): the least of
    -- these structs, which compare field by field, so the fields after those come along (one
    -- min of a struct: a min_by with a struct key took a third longer at 100M events)
    select
        customer_id,
        min(occurred_at) as first_touch_at,
        min(struct_pack(
            occurred_at,
            source,
            event_id,
            channel := coalesce(channel, '(none)'),
            campaign := coalesce(campaign_name, email_campaign_name)
        )) as first_touch,
        max(occurred_at) as last_touch_at,
        count(*) as touchpoints,
        count(distinct session_id) as sessions
    from marts.events
    group by customer_id
),

stage_summary as (
    select
        customer_id,
        max(stage_index) as current_stage_index,
        max_by(stage, stage_index) as current_stage,
        -- a JSON object with its keys in journey order, so that the same journey always gives
        -- the same text
        '{' || string_agg(
            to_json(stage) || ':' || to_json(strftime(entered_at, '%Y-%m-%dT%H:%M:%S.%g')),
            ',' order by stage_index
        ) || '}' as stage_entered_at
    from marts.customer_stages
    group by customer_id
),

purchase as (
    select customer_id, entered_at as first_purchase_at
    from marts.customer_stages
    where stage = $purchase_stage
),

before_purchase as (
    select
        p.customer_id,
        count(e.event_id) as touchpoints_before_purchase,
        count(distinct e.session_id) as sessions_before_purchase
    from purchase as p
    left join marts.events as e
        on e.customer_id = p.customer_id and e.occurred_at < p.first_purchase_at
    group by p.customer_id
)

select
    cast(t.customer_id as varchar) as customer_id,
    cast(t.first_touch_at as timestamp) as first_touch_at,
    cast(t.last_touch_at as timestamp) as last_touch_at,
    cast(t.first_touch.source as varchar) as first_touch_source,
    cast(t.first_touch.channel as varchar) as acquisition_channel,
    cast(t.first_touch.campaign as varchar) as first_touch_campaign,
    cast(s.current_stage as varchar) as current_stage,
    cast(s.current_stage_index as integer) as current_stage_index,
    cast(s.stage_entered_at as varchar) as stage_entered_at,
    cast(t.touchpoints as bigint) as touchpoints,
    cast(t.sessions as bigint) as sessions,
    cast(p.first_purchase_at as timestamp) as first_purchase_at,
    cast(b.touchpoints_before_purchase as bigint) as touchpoints_before_purchase,
    cast(b.sessions_before_purchase as bigint) as sessions_before_purchase,
    cast(date_diff('second', t.first_touch_at, p.first_purchase_at) / 86400.0 as double)
        as days_to_purchase
from touches as t
left join stage_summary as s on s.customer_id = t.customer_id
left join purchase as p on p.customer_id = t.customer_id
left join before_purchase as b on b.customer_id = t.customer_id
