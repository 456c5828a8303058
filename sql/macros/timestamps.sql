-- Event time as a UTC timestamp (the type of every *_at column), null when unparseable.
-- Accepted: ISO 8601 with an offset or 'Z' (converted to UTC); ISO 8601 without an offset (taken
-- as UTC); Unix epoch seconds (up to 11 digits, optional fraction) or milliseconds (12-14 digits).
create or replace macro parse_timestamp(value) as (
    case
        when value is null then null
        -- (a date has a '-' and an epoch none: most values skip the two regular expressions)
        when contains(value, '-') then timezone('UTC', try_cast(trim(value) as timestamptz))
        when regexp_full_match(trim(value), '\d{1,11}(\.\d+)?')
            then timezone('UTC', to_timestamp(cast(trim(value) as double)))
        when regexp_full_match(trim(value), '\d{12,14}')
            then epoch_ms(cast(trim(value) as bigint))
        else timezone('UTC', try_cast(trim(value) as timestamptz))
    end
);
