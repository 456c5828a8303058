-- Every identifier and the customer it resolved to: the map from source ids to customers.
-- Grain: one row per identifier. Primary key: (identifier_type, identifier_value).
-- identifier_type: anonymous_id (web device), user_id (web login), email (trimmed,
-- lower-cased), contact_id (CRM). An e-mail address shows only as its keyed pseudonym
-- (`em_...`, funnel.privacy). A hub (`is_hub`, see identity_hubs) is its own customer.
select
    cast(identifier_type as varchar) as identifier_type,
    cast(published_value as varchar) as identifier_value,
    cast(customer_id as varchar) as customer_id,
    cast(is_hub as boolean) as is_hub,
    cast(first_seen_at as timestamp) as first_seen_at,
    cast(last_seen_at as timestamp) as last_seen_at,
    cast(records as bigint) as records
from intermediate.int_identity__customers
