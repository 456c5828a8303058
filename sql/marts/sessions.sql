-- Web sessions: per device, with landing page, traffic source, channel and engagement.
-- Grain: one row per session. Primary key: session_id.
-- Session boundaries: see intermediate/int_web__sessionized.sql; channel rules:
-- intermediate/int_sessions__channels.sql. Page views, conversions and revenue count the
-- session's events in `marts.events`.
-- Engaged (Google Analytics 4's definition, thresholds under `sessions:` in funnel.yaml):
-- lasting strictly longer than `engaged_min_duration` (10s), or at least
-- `engaged_min_page_views` (2) page views, or a conversion event (`conversion_events`).
-- A bounce is a session that is not engaged. `revenue`: of the session's conversion events (a
-- 'Checkout Started' may carry the cart's revenue too; it is no sale).
-- `customer_id` is that of the session's first event not attributed through a hub (a shared
-- device), else of its first event.
-- Event-grain tables read more than once are read directly (see the README's Development).
with channels as (
    select * from intermediate.int_sessions__channels
),

conversions as (
    select event_name from config.conversion_events
),

by_session as (
    select
        session_id,
        min(device_id) as device_id,
        min(tracker_session_id) as tracker_session_id,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        count(*) as events,
        max(case when is_split_session then 1 else 0 end) = 1 as is_split,
        -- the customer of the first event not attributed through a hub, else of the first event
        min_by(customer_id, struct_pack(via_hub, occurred_at, event_id)) as customer_id
    from intermediate.int_web__sessionized
    group by session_id
),

activity as (
    select
        session_id,
        sum(case when event_type = 'page' then 1 else 0 end) as page_views,
        sum(case when event_type = 'track' and event_name in (select event_name from conversions)
            then 1 else 0 end) as conversions,
        sum(case
            when event_type = 'track' and event_name in (select event_name from conversions)
            then coalesce(revenue, 0) else 0 end) as revenue
    from marts.events
    where source = 'web'
    group by session_id
),

landing as (
    select * from intermediate.int_sessions__landings
),

final as (
    select
        cast(s.session_id as varchar) as session_id,
        cast(s.customer_id as varchar) as customer_id,
        cast(s.device_id as varchar) as device_id,
        cast(s.tracker_session_id as varchar) as tracker_session_id,
        cast(s.started_at as timestamp) as started_at,
        cast(s.ended_at as timestamp) as ended_at,
        cast(date_diff('millisecond', s.started_at, s.ended_at) / 1000.0 as double)
            as duration_seconds,
        cast(s.events as bigint) as events,
        cast(a.page_views as bigint) as page_views,
        cast(a.conversions as bigint) as conversions,
        cast(a.revenue as double) as revenue,
        cast(l.page_url as varchar) as landing_page_url,
        cast(l.page_path as varchar) as landing_page_path,
        cast(l.page_referrer as varchar) as referrer,
        cast(l.campaign_source as varchar) as campaign_source,
        cast(l.campaign_medium as varchar) as campaign_medium,
        cast(l.campaign_name as varchar) as campaign_name,
        cast(l.campaign_term as varchar) as campaign_term,
        cast(l.campaign_content as varchar) as campaign_content,
        cast(c.traffic_source as varchar) as traffic_source,
        cast(c.traffic_medium as varchar) as traffic_medium,
        cast(c.channel as varchar) as channel,
        cast(
            date_diff('millisecond', s.started_at, s.ended_at) > $engaged_min_seconds * 1000
            or a.page_views >= $engaged_min_page_views
            or a.conversions > 0
            as boolean
        ) as is_engaged,
        cast(s.is_split as boolean) as is_split
    from by_session as s
    inner join activity as a on a.session_id = s.session_id
    inner join landing as l on l.session_id = s.session_id
    inner join channels as c on c.session_id = s.session_id
)

select
    *,
    cast(not is_engaged as boolean) as is_bounce
from final
