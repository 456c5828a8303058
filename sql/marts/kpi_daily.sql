-- KPIs per day (UTC), every definition in intermediate/int_kpi__facts.sql (and the README).
-- Grain: one row per (day, kpi). Primary key: (day, kpi).
-- A dashboard re-aggregates weeks and months as sum(numerator) / sum(denominator) (times 100
-- for NPS); counts of distinct customers (visitors) are per day.
select
    cast(day as date) as day,
    cast(kpi as varchar) as kpi,
    cast(kind as varchar) as kind,
    cast(kpi_value(kind, sum(numerator), sum(denominator)) as double) as value,
    cast(sum(numerator) as double) as numerator,
    cast(sum(denominator) as double) as denominator
from intermediate.int_kpi__facts
group by day, kpi, kind
