-- Validation of one web export file (Segment-spec events), read into `incoming`.
-- Grain: one row per row of the file. `_reason` is null for a usable row; otherwise the row is
-- quarantined with that reason. `occurred_at_utc` is the event time in UTC.
with typed as (
    select
        *,
        parse_timestamp("timestamp") as occurred_at_utc,
        json_extract_string(properties, '$.revenue') as _revenue
    from incoming
)

select
    *,
    case
        when _error is not null then _error
        when message_id is null or trim(message_id) = '' then 'missing messageId'
        when "type" is null or lower(trim("type")) not in ('page', 'track', 'identify')
            then 'type is not page, track or identify'
        when lower(trim("type")) = 'track' and (event is null or trim(event) = '')
            then 'track event without an event name'
        when "timestamp" is null or trim("timestamp") = '' then 'missing timestamp'
        when occurred_at_utc is null then 'unparseable timestamp'
        when occurred_at_utc < $earliest_event_at or occurred_at_utc > $latest_event_at
            then 'timestamp out of range (before ingest.earliest or beyond ingest.max_future)'
        when clean_identifier(anonymous_id) is null and clean_identifier(user_id) is null
            then 'no usable identifier: anonymousId and userId missing or junk'
        when properties is not null and json_type(properties) <> 'OBJECT'
            then 'properties is not a JSON object'
        when traits is not null and json_type(traits) <> 'OBJECT'
            then 'traits is not a JSON object'
        when _revenue is not null and try_cast(_revenue as double) is null
            then 'properties.revenue is not a number'
    end as _reason
from typed
