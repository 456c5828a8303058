-- KPIs per day and acquisition channel of the customer (marts.customer_journeys), with the
-- definitions of intermediate/int_kpi__facts.sql. Grain: one row per (day,
-- acquisition_channel, kpi). Summed over channels, numerators and denominators give kpi_daily's.
select
    cast(day as date) as day,
    cast(acquisition_channel as varchar) as acquisition_channel,
    cast(kpi as varchar) as kpi,
    cast(kind as varchar) as kind,
    cast(kpi_value(kind, numerator, denominator) as double) as value,
    cast(numerator as double) as numerator,
    cast(denominator as double) as denominator
from intermediate.int_kpi__facts
