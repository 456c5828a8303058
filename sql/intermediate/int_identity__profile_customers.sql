-- Each profile's customer: the customer of every record carrying that profile's identifiers.
-- Grain: one row per profile (int_identity__observations). Primary key: profile_id.
-- A profile belongs to the customer of its first identifier (by `priority`) that is not a hub;
-- all of a profile's non-hub identifiers are linked by its records, so they agree. A profile
-- whose identifiers are all hubs belongs to its first hub's own customer (`via_hub`).
-- A record finds its profile by its source and identifiers (`user_id`, `anonymous_id`,
-- `contact_id`, `email`, null where the record has none: match them with IS NOT DISTINCT FROM).
with observations as (
    select * from intermediate.int_identity__observations
),

customers as (
    select * from intermediate.int_identity__customers
),

chosen as (
    -- the first non-hub identifier by priority, else the first hub (priorities are distinct
    -- within a profile); the profile is attributed through a hub only if all of them are hubs
    select
        o.profile_id,
        min(o.source) as source,
        max(case when o.identifier_type = 'user_id' then o.identifier_value end) as user_id,
        max(case when o.identifier_type = 'anonymous_id' then o.identifier_value end)
            as anonymous_id,
        max(case when o.identifier_type = 'contact_id' then o.identifier_value end)
            as contact_id,
        max(case when o.identifier_type = 'email' then o.identifier_value end) as email,
        min_by(c.customer_id, struct_pack(c.is_hub, o.priority)) as customer_id,
        bool_and(c.is_hub) as via_hub
    from observations as o
    inner join customers as c
        on c.identifier_type = o.identifier_type and c.identifier_value = o.identifier_value
    group by o.profile_id
)

select
    cast(profile_id as bigint) as profile_id,
    cast(source as varchar) as source,
    cast(user_id as varchar) as user_id,
    cast(anonymous_id as varchar) as anonymous_id,
    cast(contact_id as varchar) as contact_id,
    cast(email as varchar) as email,
    cast(customer_id as varchar) as customer_id,
    cast(via_hub as boolean) as via_hub
from chosen
