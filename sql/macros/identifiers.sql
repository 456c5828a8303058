-- Identifier cleaning, shared by ingest validation and the staging models so that one rule decides
-- what links people. Junk values and patterns come from funnel.yaml (identity.junk_*), written to
-- the config schema on every run.

-- Whether a value, trimmed and lower-cased, is one of the junk values.
-- The junk values are read whole, as a list (an uncorrelated subquery, run once), not tested with
-- `in (select ...)`: DuckDB plans that as a join, and a staging view runs its joins for every
-- row even when the reader never asks for the cleaned column (a count of
-- `staging.stg_web__events` at 10 million events: 0.45 s with them, 0.26 s without). Spark has
-- the same: array_contains over a collect_list subquery.
create or replace macro is_junk_value(value) as (
    list_contains((select list(j.value) from config.junk_values as j), lower(trim(value)))
);

-- A web anonymous id, user id or CRM contact id: trimmed; null when empty or junk.
create or replace macro clean_identifier(value) as (
    case
        when value is null then null
        when is_junk_value(value) then null
        else trim(value)
    end
);

-- An e-mail address: trimmed and lower-cased; null when it is not an address or matches a junk
-- value or pattern (test@..., ...@example.com, noreply@...).
-- Apply it to distinct addresses and join the result back: the pattern test is a correlated
-- subquery, which DuckDB runs by materializing the query's whole input (every wide row: tens of
-- GB of temporary files at 100 million events; ingest applies it row by row to one batch).
-- The patterns as a list tested with a lambda need no join but took four times as long row by
-- row (1.5 s against 0.4 s for the e-mail source's 2.7 million rows at 10 million events).
create or replace macro clean_email(value) as (
    case
        when value is null then null
        when not regexp_full_match(lower(trim(value)), '[^@\s]+@[^@\s]+\.[^@\s]+') then null
        when is_junk_value(value) then null
        when exists (
            select 1 from config.junk_email_patterns as p where lower(trim(value)) like p.pattern
        ) then null
        else lower(trim(value))
    end
);
