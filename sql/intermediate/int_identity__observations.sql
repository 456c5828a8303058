-- Every identifier seen on every record of the three sources.
-- Grain: one row per (source, event_id, identifier_type). No primary key beyond that triple.
-- `priority` orders a record's identifiers when it is assigned to a customer: the first
-- identifier that is not a hub decides (web: user id, then device, then e-mail;
-- CRM: contact, then e-mail, then user id). A record has at most three identifiers, one per
-- priority: int_identity__edges pairs them by it.
-- Each source is read once and unpivoted by a join to its identifier kinds: reading a staging
-- view three times would compute it three times, or materialize it as a CTE read three times.
with web_kinds (identifier_type, priority) as (
    values ('user_id', 1), ('anonymous_id', 2), ('email', 3)
),

crm_kinds (identifier_type, priority) as (
    values ('contact_id', 1), ('email', 2), ('user_id', 3)
),

web as (
    select
        'web' as source,
        w.event_id,
        k.identifier_type,
        case k.identifier_type
            when 'user_id' then w.user_id
            when 'anonymous_id' then w.anonymous_id
            else w.email
        end as identifier_value,
        k.priority,
        w.occurred_at
    from staging.stg_web__events as w
    cross join web_kinds as k
),

crm as (
    select
        'crm' as source,
        c.event_id,
        k.identifier_type,
        case k.identifier_type
            when 'contact_id' then c.contact_id
            when 'email' then c.email
            else c.user_id
        end as identifier_value,
        k.priority,
        c.occurred_at
    from staging.stg_crm__activities as c
    cross join crm_kinds as k
),

unioned as (
    select * from web where identifier_value is not null
    union all
    select * from crm where identifier_value is not null
    union all
    select 'email', event_id, 'email', email, 1, occurred_at
    from staging.stg_email__events
    where email is not null
)

select
    cast(source as varchar) as source,
    cast(event_id as varchar) as event_id,
    cast(identifier_type as varchar) as identifier_type,
    cast(identifier_value as varchar) as identifier_value,
    cast(priority as integer) as priority,
    cast(occurred_at as timestamp) as occurred_at
from unioned
