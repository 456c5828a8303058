-- E-mail platform events (sent, delivered, open, click, bounce, unsubscribe, spamreport).
-- Grain: one row per loaded e-mail event. Primary key: event_id.
with source as (
    select * from raw.email_events
),

-- each distinct address is cleaned once, then joined back (see usable_email)
emails as (
    select raw_email, usable_email(address) as email
    from (
        select raw_email, normal_email(raw_email) as address
        from (select distinct email as raw_email from raw.email_events where email is not null)
    ) as d
),

final as (
    select
        cast(trim(event_id) as varchar) as event_id,
        cast(e.email as varchar) as email,
        cast(lower(trim(event)) as varchar) as event_type,
        cast(occurred_at_utc as timestamp) as occurred_at,
        cast(nullif(trim(campaign_id), '') as varchar) as campaign_id,
        cast(nullif(trim(campaign_name), '') as varchar) as campaign_name,
        cast(nullif(trim(url), '') as varchar) as url,
        cast(_file as varchar) as source_file,
        cast(_row as bigint) as source_row
    from source as s
    left join emails as e on e.raw_email = s.email
)

select * from final
