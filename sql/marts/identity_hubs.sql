-- Identifiers not used to link customers because they would join too many of them: a shared
-- device, a support mailbox (`identity.max_customers_per_identifier` in funnel.yaml).
-- E-mail addresses show as their keyed pseudonyms. Grain: one row per hub identifier. Primary key: (identifier_type, identifier_value).
select
    cast(h.identifier_type as varchar) as identifier_type,
    cast(c.published_value as varchar) as identifier_value,
    cast(h.customers_joined as bigint) as customers_joined,
    cast(c.customer_id as varchar) as customer_id,
    cast(c.records as bigint) as records,
    cast(c.first_seen_at as timestamp) as first_seen_at,
    cast(c.last_seen_at as timestamp) as last_seen_at
from intermediate.int_identity__hubs as h
inner join intermediate.int_identity__customers as c on c.node_id = h.node_id
