-- Validation of one CRM activity-log file, read into `incoming`.
-- Grain: one row per row of the file. `_reason` is null for a usable row; otherwise the row is
-- quarantined with that reason. `occurred_at_utc` is the event time in UTC.
-- (`_address`: the normal address, a column as usable_email needs)
with typed as (
    select *, parse_timestamp(occurred_at) as occurred_at_utc, normal_email(email) as _address
    from incoming
)

select
    *,
    case
        when _error is not null then _error
        when event_id is null or trim(event_id) = '' then 'missing event_id'
        when event_type is null or trim(event_type) = '' then 'missing event_type'
        when occurred_at is null or trim(occurred_at) = '' then 'missing occurred_at'
        when occurred_at_utc is null then 'unparseable occurred_at'
        when occurred_at_utc < $earliest_event_at or occurred_at_utc > $latest_event_at
            then 'timestamp out of range (before ingest.earliest or beyond ingest.max_future)'
        when clean_identifier(contact_id) is null
            and usable_email(_address) is null
            and clean_identifier(user_id) is null
            then 'no usable identifier: contact_id, email and user_id missing or junk'
        when trim(score) <> '' and coalesce(try_cast(trim(score) as integer) not between 0 and 10, true)
            then 'score is not an integer from 0 to 10'
        when trim(amount) <> '' and try_cast(trim(amount) as double) is null
            then 'amount is not a number'
    end as _reason
from typed
