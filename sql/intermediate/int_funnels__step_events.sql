-- Events that fill a funnel step or void an attempt (exclusions), for every configured funnel
-- and the journey (funnel 'journey', one step per stage).
-- Grain: one row per (funnel, step_index or exclusion, event). step_index is null for an
-- exclusion event, which carries the steps it lies between (exclude_from, exclude_to).
--
-- Matching: an event matches a matcher when its source and event name equal the matcher's
-- (where given) and every `where` condition holds; a condition with a list (`in`) holds when
-- one of its values does. Numbers compare as numbers, text as text; a missing field never
-- matches. Matchers and conditions are rows of the config schema (from funnel.yaml), so this
-- query never changes with the configuration.
-- A step with `occurrence` n is filled only by its n-th and later matching events of the unit.
-- `unit_id` is the customer, or the session for a funnel counted by session; `unit_key`
-- numbers the (funnel, unit) pairs, so the attempts can partition and join on one integer.
-- `unit_seq` orders the unit's events (time, then source, then event id): in a strict funnel
-- it numbers every event of the unit, so the very next event is `unit_seq + 1`; in the others
-- only the events the funnel matched (ordering every event is only needed for strict funnels).
with matchers as (
    select
        m.*,
        f.count_by,
        f.order_mode,
        m.matcher_id in (select k.matcher_id from config.matcher_conditions as k)
            as has_conditions
    from config.funnel_matchers as m
    inner join config.funnels as f on f.funnel = m.funnel
),

candidates as (
    select m.matcher_id, m.has_conditions, m.funnel, m.step_index,
        m.exclude_from, m.exclude_to, m.count_by, m.order_mode, e.source, e.event_id,
        e.customer_id, e.session_id, e.occurred_at
    from marts.events as e
    inner join matchers as m
        on m.event_name = e.event_name and (m.source is null or m.source = e.source)
    where m.count_by = 'customer' or e.session_id is not null
    union all
    select m.matcher_id, m.has_conditions, m.funnel, m.step_index,
        m.exclude_from, m.exclude_to, m.count_by, m.order_mode, e.source, e.event_id,
        e.customer_id, e.session_id, e.occurred_at
    from marts.events as e
    inner join matchers as m
        on m.event_name is null and (m.source is null or m.source = e.source)
    where m.count_by = 'customer' or e.session_id is not null
),

-- The events of matchers with `where` conditions, with every column a condition may test.
conditional as (
    select m.matcher_id, e.*
    from marts.events as e
    inner join matchers as m
        on m.event_name = e.event_name and (m.source is null or m.source = e.source)
    where m.has_conditions
    union all
    select m.matcher_id, e.*
    from marts.events as e
    inner join matchers as m
        on m.event_name is null and (m.source is null or m.source = e.source)
    where m.has_conditions
),

field_values as (
    select
        c.matcher_id,
        c.source,
        c.event_id,
        k.condition_id,
        k.op,
        k.value_text,
        k.value_number,
        case k.field
            when 'source' then c.source
            when 'event_type' then c.event_type
            when 'event_name' then c.event_name
            when 'page_name' then c.page_name
            when 'page_url' then c.page_url
            when 'page_path' then c.page_path
            when 'page_title' then c.page_title
            when 'referrer' then c.referrer
            when 'campaign_source' then c.campaign_source
            when 'campaign_medium' then c.campaign_medium
            when 'campaign_name' then c.campaign_name
            when 'channel' then c.channel
            when 'revenue' then cast(c.revenue as varchar)
            when 'currency' then c.currency
            when 'order_id' then c.order_id
            when 'deal_id' then c.deal_id
            when 'stage' then c.stage
            when 'score' then cast(c.score as varchar)
            when 'email_campaign_id' then c.email_campaign_id
            when 'email_campaign_name' then c.email_campaign_name
            when 'link_url' then c.link_url
            else json_extract_string(c.properties, '$.' || substr(k.field, 12))
        end as field_value
    from conditional as c
    inner join config.matcher_conditions as k on k.matcher_id = c.matcher_id
),

evaluated as (
    select
        matcher_id,
        source,
        event_id,
        condition_id,
        max(case
            when value_number is not null then case op
                when '==' then try_cast(field_value as double) = value_number
                when '!=' then try_cast(field_value as double) <> value_number
                when '>=' then try_cast(field_value as double) >= value_number
                when '<=' then try_cast(field_value as double) <= value_number
                when '>' then try_cast(field_value as double) > value_number
                when '<' then try_cast(field_value as double) < value_number
            end
            else case op
                when '==' then field_value = value_text
                when '!=' then field_value <> value_text
                when '>=' then field_value >= value_text
                when '<=' then field_value <= value_text
                when '>' then field_value > value_text
                when '<' then field_value < value_text
            end
        end) as holds
    from field_values
    group by matcher_id, source, event_id, condition_id
),

failed as (
    select distinct matcher_id, source, event_id
    from evaluated
    where holds is not true
),

matched as (
    select
        c.*,
        case c.count_by when 'session' then c.session_id else c.customer_id end as unit_id
    from candidates as c
    where not c.has_conditions or not exists (
        select 1 from failed as f
        where f.matcher_id = c.matcher_id and f.source = c.source and f.event_id = c.event_id
    )
),

-- Several matchers of one step (any_of) can match the same event: it is kept once.
step_rows as (
    select distinct funnel, step_index, exclude_from, exclude_to, order_mode, unit_id,
        customer_id, source, event_id, occurred_at
    from matched
),

units as (
    select funnel, unit_id, row_number() over (order by funnel, unit_id) as unit_key
    from (select distinct funnel, unit_id from step_rows) as u
),

-- Strict funnels only: every event of the unit, numbered.
strict_sequence as (
    select
        f.funnel,
        e.source,
        e.event_id,
        row_number() over (
            partition by f.funnel, case f.count_by when 'session' then e.session_id
                else e.customer_id end
            order by e.occurred_at, e.source, e.event_id
        ) as unit_seq
    from marts.events as e
    inner join config.funnels as f
        on f.order_mode = 'strict' and (f.count_by = 'customer' or e.session_id is not null)
),

sequenced as (
    select
        r.*,
        dense_rank() over (
            partition by r.funnel, r.unit_id order by r.occurred_at, r.source, r.event_id
        ) as unit_seq
    from step_rows as r
    where r.order_mode <> 'strict'
    union all
    select r.*, q.unit_seq
    from step_rows as r
    inner join strict_sequence as q
        on q.funnel = r.funnel and q.source = r.source and q.event_id = r.event_id
    where r.order_mode = 'strict'
),

with_occurrence as (
    select q.*, u.unit_key, coalesce(s.occurrence, 1) as occurrence
    from sequenced as q
    inner join units as u on u.funnel = q.funnel and u.unit_id = q.unit_id
    left join config.funnel_steps as s on s.funnel = q.funnel and s.step_index = q.step_index
),

kept as (
    select funnel, step_index, exclude_from, exclude_to, order_mode, unit_id, customer_id,
        source, event_id, occurred_at, unit_seq, unit_key, occurrence
    from with_occurrence
    where occurrence = 1
    union all
    select funnel, step_index, exclude_from, exclude_to, order_mode, unit_id, customer_id,
        source, event_id, occurred_at, unit_seq, unit_key, occurrence
    from (
        select
            *,
            row_number() over (partition by unit_key, step_index order by unit_seq) as n
        from with_occurrence
        where occurrence > 1
    ) as repeated
    where n >= occurrence
)

select
    cast(r.funnel as varchar) as funnel,
    cast(r.step_index as integer) as step_index,
    cast(r.exclude_from as integer) as exclude_from,
    cast(r.exclude_to as integer) as exclude_to,
    cast(r.unit_id as varchar) as unit_id,
    cast(r.unit_key as bigint) as unit_key,
    cast(r.unit_seq as bigint) as unit_seq,
    cast(r.customer_id as varchar) as customer_id,
    cast(r.source as varchar) as source,
    cast(r.event_id as varchar) as event_id,
    cast(r.occurred_at as timestamp) as occurred_at
from kept as r
