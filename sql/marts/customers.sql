-- Customers: one per connected group of identifiers across web, CRM and e-mail.
-- Grain: one row per customer. Primary key: customer_id.
-- first/last_seen_at: of the customer's events (of its identifiers, for a hub without events).
-- `is_hub`: the customer is a hub identifier standing alone (e.g. a shared device's anonymous
-- browsing), not a person; dashboards usually leave these out.
with identifiers as (
    select * from intermediate.int_identity__customers
),

events as (
    select * from marts.events
),

sessions as (
    select * from marts.sessions
),

id_counts as (
    select
        customer_id,
        sum(case when identifier_type = 'anonymous_id' then 1 else 0 end) as anonymous_ids,
        sum(case when identifier_type = 'user_id' then 1 else 0 end) as user_ids,
        sum(case when identifier_type = 'email' then 1 else 0 end) as emails,
        sum(case when identifier_type = 'contact_id' then 1 else 0 end) as contact_ids,
        max(case when is_hub then 1 else 0 end) = 1 as is_hub,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from identifiers
    group by customer_id
),

event_counts as (
    select
        customer_id,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        sum(case when source = 'web' then 1 else 0 end) as web_events,
        sum(case when source = 'crm' then 1 else 0 end) as crm_events,
        sum(case when source = 'email' then 1 else 0 end) as email_events
    from events
    group by customer_id
),

session_counts as (
    select customer_id, count(*) as sessions
    from sessions
    group by customer_id
)

select
    cast(i.customer_id as varchar) as customer_id,
    cast(coalesce(e.first_seen_at, i.first_seen_at) as timestamp) as first_seen_at,
    cast(coalesce(e.last_seen_at, i.last_seen_at) as timestamp) as last_seen_at,
    cast(i.anonymous_ids as bigint) as anonymous_ids,
    cast(i.user_ids as bigint) as user_ids,
    cast(i.emails as bigint) as emails,
    cast(i.contact_ids as bigint) as contact_ids,
    cast(coalesce(e.web_events, 0) as bigint) as web_events,
    cast(coalesce(e.crm_events, 0) as bigint) as crm_events,
    cast(coalesce(e.email_events, 0) as bigint) as email_events,
    cast(coalesce(s.sessions, 0) as bigint) as sessions,
    cast(i.is_hub as boolean) as is_hub
from id_counts as i
left join event_counts as e on e.customer_id = i.customer_id
left join session_counts as s on s.customer_id = i.customer_id
