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
-- The event's unit (its customer, or its session for a funnel counted by session) is given by
-- `unit_key` alone (`int_funnels__unit_keys` holds its id and customer): the rows stay narrow
-- for the sort below and the attempts, which partition and join on that one integer.
-- `unit_seq` numbers the unit's events (time, then source, then event id): in a strict funnel
-- every event of the unit, so the very next event is `unit_seq + 1`; in the others only the
-- events the funnel matched (ordering every event is only needed for strict funnels).
-- Only the steps that need it pay for it: matches are deduplicated where two matchers of one
-- step can match the same event, and counted where a step has an `occurrence`.
-- The model runs in parts of units (`warehouse.part_rows`): a unit's events are all in one part,
-- so its numbering and counts are whole, and each part's joins and sort fit in memory (in one
-- part, 100 million events ran out of 5 GB).
with matchers as (
    select
        m.*,
        f.count_by,
        m.matcher_id in (select k.matcher_id from config.matcher_conditions as k)
            as has_conditions,
        -- another matcher of the same step (or exclusion) may match the same event, or the
        -- step counts its matching events: such matches take the slower path below
        coalesce(s.occurrence, 1) > 1 or exists (
            select 1
            from config.funnel_matchers as o
            where o.funnel = m.funnel and o.matcher_id <> m.matcher_id
                and o.step_index is not distinct from m.step_index
                and o.exclude_from is not distinct from m.exclude_from
                and o.exclude_to is not distinct from m.exclude_to
                and (o.event_name = m.event_name or o.event_name is null or m.event_name is null)
                and (o.source = m.source or o.source is null or m.source is null)
        ) as is_special,
        coalesce(s.occurrence, 1) as occurrence
    from config.funnel_matchers as m
    inner join config.funnels as f on f.funnel = m.funnel
    left join config.funnel_steps as s on s.funnel = m.funnel and s.step_index = m.step_index
),

-- The events of matchers with `where` conditions, with every column a condition may test.
conditional as (
    select m.matcher_id, e.*
    from marts.events as e
    inner join matchers as m
        on m.event_name = e.event_name and (m.source is null or m.source = e.source)
    where m.has_conditions
        and in_part(funnel_unit(m.count_by, e.customer_id, e.session_id), $part, $parts)
    union all
    select m.matcher_id, e.*
    from marts.events as e
    inner join matchers as m
        on m.event_name is null and (m.source is null or m.source = e.source)
    where m.has_conditions
        and in_part(funnel_unit(m.count_by, e.customer_id, e.session_id), $part, $parts)
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

-- Matches of the matchers that cannot repeat an event of their step: used as they are.
-- (Two joins, not one split afterwards: each join filters its matchers before touching the
-- events; one shared join measured 30% slower, the split not pushed below the union.)
plain_matches as (
    select m.matcher_id, m.has_conditions, m.funnel, m.step_index, m.exclude_from,
        m.exclude_to, e.source, e.event_id, e.occurred_at,
        funnel_unit(m.count_by, e.customer_id, e.session_id) as unit_id
    from marts.events as e
    inner join matchers as m
        on m.event_name = e.event_name and (m.source is null or m.source = e.source)
    where not m.is_special and (m.count_by = 'customer' or e.session_id is not null)
        and in_part(funnel_unit(m.count_by, e.customer_id, e.session_id), $part, $parts)
    union all
    select m.matcher_id, m.has_conditions, m.funnel, m.step_index, m.exclude_from,
        m.exclude_to, e.source, e.event_id, e.occurred_at,
        funnel_unit(m.count_by, e.customer_id, e.session_id)
    from marts.events as e
    inner join matchers as m
        on m.event_name is null and (m.source is null or m.source = e.source)
    where not m.is_special and (m.count_by = 'customer' or e.session_id is not null)
        and in_part(funnel_unit(m.count_by, e.customer_id, e.session_id), $part, $parts)
),

-- Matches of the others: an event kept once per step, from the step's n-th matching event on.
special_matches as (
    select m.matcher_id, m.has_conditions, m.occurrence, m.funnel, m.step_index,
        m.exclude_from, m.exclude_to, e.source, e.event_id, e.occurred_at,
        funnel_unit(m.count_by, e.customer_id, e.session_id) as unit_id
    from marts.events as e
    inner join matchers as m
        on m.event_name = e.event_name and (m.source is null or m.source = e.source)
    where m.is_special and (m.count_by = 'customer' or e.session_id is not null)
        and in_part(funnel_unit(m.count_by, e.customer_id, e.session_id), $part, $parts)
    union all
    select m.matcher_id, m.has_conditions, m.occurrence, m.funnel, m.step_index,
        m.exclude_from, m.exclude_to, e.source, e.event_id, e.occurred_at,
        funnel_unit(m.count_by, e.customer_id, e.session_id)
    from marts.events as e
    inner join matchers as m
        on m.event_name is null and (m.source is null or m.source = e.source)
    where m.is_special and (m.count_by = 'customer' or e.session_id is not null)
        and in_part(funnel_unit(m.count_by, e.customer_id, e.session_id), $part, $parts)
),

special_events as (
    select distinct c.occurrence, c.funnel, c.step_index, c.exclude_from, c.exclude_to,
        c.unit_id, c.source, c.event_id, c.occurred_at
    from special_matches as c
    where not c.has_conditions or not exists (
        select 1 from failed as f
        where f.matcher_id = c.matcher_id and f.source = c.source and f.event_id = c.event_id
    )
),

step_rows as (
    select c.funnel, c.step_index, c.exclude_from, c.exclude_to, c.unit_id, c.source,
        c.event_id, c.occurred_at
    from plain_matches as c
    where not c.has_conditions or not exists (
        select 1 from failed as f
        where f.matcher_id = c.matcher_id and f.source = c.source and f.event_id = c.event_id
    )
    union all
    select funnel, step_index, exclude_from, exclude_to, unit_id, source, event_id, occurred_at
    from (
        select
            *,
            row_number() over (
                partition by funnel, step_index, exclude_from, exclude_to, unit_id
                order by occurred_at, source, event_id
            ) as n
        from special_events
    ) as counted
    where n >= occurrence
),

keyed as (
    select r.*, u.unit_key
    from step_rows as r
    inner join intermediate.int_funnels__unit_keys as u
        on u.funnel = r.funnel and u.unit_id = r.unit_id
    where in_part(u.unit_id, $part, $parts)  -- the part's units only: a smaller hash table
),

-- Strict funnels only: every event of the unit, numbered.
strict_sequence as (
    select
        f.funnel,
        e.source,
        e.event_id,
        row_number() over (
            partition by f.funnel, funnel_unit(f.count_by, e.customer_id, e.session_id)
            order by e.occurred_at, e.source, e.event_id
        ) as unit_seq
    from marts.events as e
    inner join config.funnels as f
        on f.order_mode = 'strict' and (f.count_by = 'customer' or e.session_id is not null)
    where in_part(funnel_unit(f.count_by, e.customer_id, e.session_id), $part, $parts)
)

select
    cast(r.funnel as varchar) as funnel,
    cast(r.step_index as integer) as step_index,
    cast(r.exclude_from as integer) as exclude_from,
    cast(r.exclude_to as integer) as exclude_to,
    cast(r.unit_key as bigint) as unit_key,
    cast(coalesce(q.unit_seq, dense_rank() over (
        partition by r.unit_key order by r.occurred_at, r.source, r.event_id
    )) as bigint) as unit_seq,
    cast(r.source as varchar) as source,
    cast(r.event_id as varchar) as event_id,
    cast(r.occurred_at as timestamp) as occurred_at
from keyed as r
left join strict_sequence as q
    on q.funnel = r.funnel and q.source = r.source and q.event_id = r.event_id
