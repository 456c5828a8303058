-- A KPI's value from its numerator and denominator, by kind (intermediate/int_kpi__facts.sql):
-- count = the numerator; rate and ratio = numerator / denominator; score (NPS) = 100 x that.
-- Null when the denominator is 0.
create or replace macro kpi_value(kind, numerator, denominator) as (
    case
        when kind = 'count' then numerator
        when denominator = 0 then null
        when kind = 'score' then 100 * numerator / denominator
        else numerator / denominator
    end
);
