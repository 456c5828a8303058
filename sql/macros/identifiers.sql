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

-- An e-mail address as the rules compare it: trimmed and lower-cased.
create or replace macro normal_email(value) as (lower(trim(value)));

-- An address as `normal_email` gives it: itself, or null when it is not an address or matches a
-- junk value or pattern (test@..., ...@example.com, noreply@...).
-- Pass a column that holds the normal address, not an expression: the pattern test is a
-- correlated subquery, and DuckDB evaluates an expression given to it once per pattern (the
-- e-mail source's distinct addresses at 10 million events: 0.47 s, against 0.15 s from a
-- column). Apply it to distinct addresses and join the result back: a correlated subquery runs
-- by materializing the query's whole input (every wide row: tens of GB of temporary files at
-- 100 million events; ingest applies it row by row to one batch). The patterns as a list tested
-- with a lambda need no join but took four times as long row by row (1.5 s against 0.4 s for
-- the e-mail source's 2.7 million rows at 10 million events).
create or replace macro usable_email(address) as (
    case
        when address is null then null
        when not regexp_full_match(address, '[^@\s]+@[^@\s]+\.[^@\s]+') then null
        when is_junk_value(address) then null
        when exists (
            select 1 from config.junk_email_patterns as p where address like p.pattern
        ) then null
        else address
    end
);
