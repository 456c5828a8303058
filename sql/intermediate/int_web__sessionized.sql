-- Web events with their customer and session.
-- Grain: one row per web event. Primary key: event_id.
--
-- Session rules (settings under `sessions:` in funnel.yaml):
-- * Sessions are per device (`device_id`), never across devices.
-- * Events carrying a tracker session id (`context.sessionId`) form one session per
--   (device, tracker session id), whatever the gaps inside it.
-- * Other events: a gap strictly longer than `inactivity_timeout` (default 30m) to the device's
--   previous such event starts a new session; a gap of exactly 30:00 stays in the session.
-- * A session is then cut into chunks of at most `max_duration` (default 24h) from its first
--   event: chunk = 0 at elapsed 0, else ceil(elapsed / max_duration) - 1. Each chunk is a
--   session; all chunks of a cut session have `is_split`.
-- * Ties are broken by event_id, and a session's id derives from its device and first event, so
--   the same input always gives the same ids.
with events as (
    select w.*, ec.customer_id, ec.via_hub
    from staging.stg_web__events as w
    inner join intermediate.int_identity__event_customers as ec
        on ec.source = 'web' and ec.event_id = w.event_id
),

gaps as (
    select
        *,
        lag(occurred_at) over (
            partition by device_id, tracker_session_id order by occurred_at, event_id
        ) as previous_at
    from events
),

flagged as (
    select
        *,
        case
            when previous_at is null then 1
            when tracker_session_id is not null then 0
            when date_diff('millisecond', previous_at, occurred_at)
                > $inactivity_timeout_seconds * 1000 then 1
            else 0
        end as starts_visit
    from gaps
),

visits as (
    select
        *,
        sum(starts_visit) over (
            partition by device_id, tracker_session_id
            order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as visit_number
    from flagged
),

elapsed as (
    select
        *,
        date_diff(
            'millisecond',
            min(occurred_at) over (partition by device_id, tracker_session_id, visit_number),
            occurred_at
        ) as elapsed_ms
    from visits
),

chunked as (
    select
        *,
        case
            when elapsed_ms = 0 then 0
            else cast(ceil(elapsed_ms / ($max_session_seconds * 1000.0)) as bigint) - 1
        end as chunk
    from elapsed
),

keyed as (
    select
        *,
        first_value(event_id) over (
            partition by device_id, tracker_session_id, visit_number, chunk
            order by occurred_at, event_id
        ) as first_event_id,
        max(chunk) over (partition by device_id, tracker_session_id, visit_number) > 0
            as is_split
    from chunked
)

select
    cast(event_id as varchar) as event_id,
    cast('ses_' || substr(md5(device_id || '|' || first_event_id), 1, 16) as varchar)
        as session_id,
    cast(event_id = first_event_id as boolean) as is_session_start,
    cast(is_split as boolean) as is_split_session,
    cast(customer_id as varchar) as customer_id,
    cast(via_hub as boolean) as via_hub,
    cast(device_id as varchar) as device_id,
    event_type,
    event_name,
    page_name,
    anonymous_id,
    user_id,
    email,
    occurred_at,
    page_url,
    page_path,
    page_referrer,
    page_title,
    campaign_source,
    campaign_medium,
    campaign_name,
    campaign_term,
    campaign_content,
    user_agent,
    tracker_session_id,
    properties,
    revenue,
    order_id,
    source_file,
    source_row
from keyed
