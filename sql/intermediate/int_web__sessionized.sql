-- Web events' customer and session: the session rules' result, narrow.
-- Grain: one row per web event. Primary key: event_id.
-- Only the event's id and key, time, device, customer and session: the marts take the event's
-- own fields from `stg_web__events` by `event_key` (a wide copy of every web event here cost
-- more to write than that join), and no raw identifier (the customer stands for them).
--
-- Session rules (settings under `sessions:` in funnel.yaml):
-- * Sessions are per device (`device_id`), never across devices.
-- * Events carrying a tracker session id (`context.sessionId`) form one session per
--   (device, tracker session id), whatever the gaps inside it.
-- * Other events: a gap strictly longer than `inactivity_timeout` (default 30m) to the device's
--   previous such event starts a new session; a gap of exactly 30:00 stays in the session.
-- * A session is then cut into chunks of at most `max_duration` (default 24h) from its first
--   event (macro session_chunk: 0 at elapsed 0, else ceil(elapsed / max) - 1). Each chunk is a
--   session; all chunks of a cut session have `is_split`.
-- * Ties are broken by event_id, and a session's id derives from its device and first event, so
--   the same input always gives the same ids.
-- The rules run on a narrow projection (device, tracker session, time, id, and the customer of
-- the event's identifiers) in one ordered pass. The model runs in parts of devices
-- (`warehouse.part_rows`): sessions never span devices, and each part's joins fit in memory.
with ordered as (
    select
        w.event_id,
        w.event_key,
        w.device_id,
        w.tracker_session_id,
        w.occurred_at,
        lag(w.occurred_at) over (
            partition by w.device_id, w.tracker_session_id order by w.occurred_at, w.event_id
        ) as previous_at,
        pc.customer_id,
        pc.via_hub
    from staging.stg_web__events as w
    inner join intermediate.int_identity__profile_customers as pc
        on pc.source = 'web'
        and pc.user_id is not distinct from w.user_id
        and pc.anonymous_id is not distinct from w.anonymous_id
        and pc.email is not distinct from w.email
    where in_part(w.device_id, $part, $parts)
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
    from ordered
),

visits as (
    -- visit starts ascend in time, so the latest start so far is the current visit's start
    select
        *,
        sum(starts_visit) over running as visit_number,
        max(case when starts_visit = 1 then occurred_at end) over running as visit_started_at
    from flagged
    window running as (
        partition by device_id, tracker_session_id
        order by occurred_at, event_id
        rows between unbounded preceding and current row
    )
),

chunked as (
    select
        *,
        session_chunk(
            date_diff('millisecond', visit_started_at, occurred_at), $max_session_seconds * 1000
        ) as chunk,
        -- the previous event is in the same visit unless this one starts it
        case when starts_visit = 0 then session_chunk(
            date_diff('millisecond', visit_started_at, previous_at), $max_session_seconds * 1000
        ) end as previous_chunk
    from visits
),

session_starts as (
    -- a session (visit chunk) starts at a visit's first event or where the chunk changes
    select
        device_id,
        coalesce(tracker_session_id, '') as tracker_key,
        visit_number,
        chunk,
        event_id as first_event_id,
        -- computed once per session, not per event
        'ses_' || substr(md5(device_id || '|' || event_id), 1, 16) as session_id,
        max(chunk) over (
            partition by device_id, tracker_session_id, visit_number
        ) > 0 as is_split
    from chunked
    where starts_visit = 1 or chunk <> previous_chunk
),

keyed as (
    select c.*, s.first_event_id, s.session_id, s.is_split
    from chunked as c
    inner join session_starts as s
        on s.device_id = c.device_id
        and s.tracker_key = coalesce(c.tracker_session_id, '')
        and s.visit_number = c.visit_number
        and s.chunk = c.chunk
)

select
    cast(event_id as varchar) as event_id,
    cast(event_key as uhugeint) as event_key,
    cast(session_id as varchar) as session_id,
    cast(event_id = first_event_id as boolean) as is_session_start,
    cast(is_split as boolean) as is_split_session,
    cast(customer_id as varchar) as customer_id,
    cast(via_hub as boolean) as via_hub,
    cast(device_id as varchar) as device_id,
    cast(tracker_session_id as varchar) as tracker_session_id,
    cast(occurred_at as timestamp) as occurred_at
from keyed
