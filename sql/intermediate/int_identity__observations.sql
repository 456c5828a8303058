-- Every identifier seen on the records of the three sources, one row per identifier of each
-- profile: a profile is one distinct combination of identifiers that records of one source
-- carry. A device's events mostly repeat one (the benchmark's exports hold one profile per
-- ten records), so the graph is built from far fewer rows than records, with the same nodes,
-- links, first/last seen and record counts.
-- Grain: one row per (profile_id, identifier_type). Primary key: (profile_id, identifier_type).
-- `priority` orders a profile's identifiers when its records are assigned to a customer: the
-- first identifier that is not a hub decides (web: user id, then device, then e-mail;
-- CRM: contact, then e-mail, then user id). A profile has at most three identifiers, one per
-- priority: int_identity__edges pairs them by it. `records`, `first_seen_at` and
-- `last_seen_at` are the profile's.
-- Each staging view is read once: reading one twice would compute it twice.
with records as (
    select 'web' as source, user_id, anonymous_id, null as contact_id, email, occurred_at
    from staging.stg_web__events
    union all
    select 'crm', user_id, null, contact_id, email, occurred_at
    from staging.stg_crm__activities
    union all
    select 'email', null, null, null, email, occurred_at
    from staging.stg_email__events
),

profiles as (
    select
        source,
        user_id,
        anonymous_id,
        contact_id,
        email,
        count(*) as records,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at
    from records
    group by source, user_id, anonymous_id, contact_id, email
),

numbered as (
    select row_number() over (order by source, user_id, anonymous_id, contact_id, email)
        as profile_id, *
    from profiles
),

kinds (source, identifier_type, priority) as (
    values
        ('web', 'user_id', 1), ('web', 'anonymous_id', 2), ('web', 'email', 3),
        ('crm', 'contact_id', 1), ('crm', 'email', 2), ('crm', 'user_id', 3),
        ('email', 'email', 1)
),

unpivoted as (
    select
        p.profile_id,
        p.source,
        k.identifier_type,
        case k.identifier_type
            when 'user_id' then p.user_id
            when 'anonymous_id' then p.anonymous_id
            when 'contact_id' then p.contact_id
            else p.email
        end as identifier_value,
        k.priority,
        p.records,
        p.first_seen_at,
        p.last_seen_at
    from numbered as p
    inner join kinds as k on k.source = p.source
)

select
    cast(profile_id as bigint) as profile_id,
    cast(source as varchar) as source,
    cast(identifier_type as varchar) as identifier_type,
    cast(identifier_value as varchar) as identifier_value,
    cast(priority as integer) as priority,
    cast(records as bigint) as records,
    cast(first_seen_at as timestamp) as first_seen_at,
    cast(last_seen_at as timestamp) as last_seen_at
from unpivoted
where identifier_value is not null
