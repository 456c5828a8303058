-- Publish the part's attempts. Their ids, numbered from 1 within the part, continue after the
-- attempts of the parts before (`id_base`). An exclusion event voids an attempt when it comes
-- after the attempt's `exclude_from` step and before its `exclude_to` step, or, if the attempt
-- never reached that step, before its window closed.
create or replace temp table fa_id_base as
select coalesce(max(attempt_id), 0) as id_base from intermediate.int_funnels__attempts;

insert into intermediate.int_funnels__attempt_steps
select
    cast(attempt_id + (select id_base from fa_id_base) as bigint) as attempt_id,
    cast(step_index as integer) as step_index,
    cast(occurred_at as timestamp) as occurred_at,
    cast(unit_seq as bigint) as unit_seq
from fa_steps;

insert into intermediate.int_funnels__attempts
with voided as (
    select distinct a.attempt_id
    from fa_attempts as a
    inner join fa_step_events as x
        on x.unit_key = a.unit_key and x.step_index is null
    inner join fa_steps as f on f.attempt_id = a.attempt_id and f.step_index = x.exclude_from
    left join fa_steps as t on t.attempt_id = a.attempt_id and t.step_index = x.exclude_to
    where x.unit_seq > f.unit_seq
        and (
            (t.attempt_id is not null and x.unit_seq < t.unit_seq)
            or (t.attempt_id is null and x.occurred_at <= a.closes_at)
        )
)

select
    cast(a.attempt_id + (select id_base from fa_id_base) as bigint) as attempt_id,
    cast(a.funnel as varchar) as funnel,
    cast(u.unit_id as varchar) as unit_id,
    cast(u.customer_id as varchar) as customer_id,
    cast(a.entered_at as timestamp) as entered_at,
    cast(a.closes_at as timestamp) as closes_at,
    cast(a.level as integer) as level,
    cast(a.attempt_id in (select attempt_id from voided) as boolean) as is_voided
from fa_attempts as a
inner join intermediate.int_funnels__unit_keys as u on u.unit_key = a.unit_key;
