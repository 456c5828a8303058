-- Every identifier seen on every record of the three sources.
-- Grain: one row per (source, event_id, identifier_type). No primary key beyond that triple.
-- `priority` orders a record's identifiers when it is assigned to a customer: the first
-- identifier that is not a hub decides (web: user id, then device, then e-mail;
-- CRM: contact, then e-mail, then user id).
with web as (
    select * from staging.stg_web__events
),

crm as (
    select * from staging.stg_crm__activities
),

email as (
    select * from staging.stg_email__events
),

unioned as (
    select 'web' as source, event_id, 'user_id' as identifier_type, user_id as identifier_value,
        1 as priority, occurred_at
    from web where user_id is not null
    union all
    select 'web', event_id, 'anonymous_id', anonymous_id, 2, occurred_at
    from web where anonymous_id is not null
    union all
    select 'web', event_id, 'email', email, 3, occurred_at
    from web where email is not null
    union all
    select 'crm', event_id, 'contact_id', contact_id, 1, occurred_at
    from crm where contact_id is not null
    union all
    select 'crm', event_id, 'email', email, 2, occurred_at
    from crm where email is not null
    union all
    select 'crm', event_id, 'user_id', user_id, 3, occurred_at
    from crm where user_id is not null
    union all
    select 'email', event_id, 'email', email, 1, occurred_at
    from email where email is not null
)

select
    cast(source as varchar) as source,
    cast(event_id as varchar) as event_id,
    cast(identifier_type as varchar) as identifier_type,
    cast(identifier_value as varchar) as identifier_value,
    cast(priority as integer) as priority,
    cast(occurred_at as timestamp) as occurred_at
from unioned
