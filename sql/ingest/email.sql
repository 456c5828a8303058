-- Validation of one e-mail event export file, read into `incoming`.
-- Grain: one row per row of the file. `_reason` is null for a usable row; otherwise the row is
-- quarantined with that reason. `occurred_at_utc` is the event time in UTC.
-- (`_address`: the normal address, a column as usable_email needs)
with typed as (
    select *, parse_timestamp("timestamp") as occurred_at_utc, normal_email(email) as _address
    from incoming
)

select
    *,
    case
        when _error is not null then _error
        when event_id is null or trim(event_id) = '' then 'missing event_id'
        when event is null or trim(event) = '' then 'missing event'
        when email is null or trim(email) = '' then 'missing email'
        when usable_email(_address) is null then 'email is not a usable address'
        when "timestamp" is null or trim("timestamp") = '' then 'missing timestamp'
        when occurred_at_utc is null then 'unparseable timestamp'
        when occurred_at_utc < $earliest_event_at or occurred_at_utc > $latest_event_at
            then 'timestamp out of range (before ingest.earliest or beyond ingest.max_future)'
    end as _reason
from typed
