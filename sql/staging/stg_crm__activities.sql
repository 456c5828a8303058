-- CRM activity log (contacts, lifecycle stages, deals, tickets, NPS, reviews, referrals).
-- Grain: one row per loaded CRM activity. Primary key: event_id.
with source as (
    select * from raw.crm_events
),

-- each distinct address is cleaned once, then joined back (see usable_email)
emails as (
    select raw_email, usable_email(address) as email
    from (
        select raw_email, normal_email(raw_email) as address
        from (select distinct email as raw_email from raw.crm_events where email is not null)
    ) as d
),

final as (
    select
        cast(trim(event_id) as varchar) as event_id,
        cast(clean_identifier(contact_id) as varchar) as contact_id,
        cast(e.email as varchar) as email,
        cast(clean_identifier(user_id) as varchar) as user_id,
        cast(lower(trim(event_type)) as varchar) as event_type,
        cast(occurred_at_utc as timestamp) as occurred_at,
        cast(nullif(lower(trim(stage)), '') as varchar) as stage,
        cast(nullif(trim(deal_id), '') as varchar) as deal_id,
        cast(try_cast(trim(amount) as double) as double) as amount,
        cast(nullif(upper(trim(currency)), '') as varchar) as currency,
        cast(try_cast(trim(score) as integer) as integer) as score,
        cast(nullif(trim(channel), '') as varchar) as crm_channel,
        cast(_file as varchar) as source_file,
        cast(_row as bigint) as source_row
    from source as s
    left join emails as e on e.raw_email = s.email
)

select * from final
