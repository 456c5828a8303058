-- Connected components, one step: every node takes the smallest label among itself and its
-- neighbours, then jumps to its label's label (which roughly halves the distance each step).
-- Labels are node ids, so at the fixed point every node carries its component's smallest node id.
-- Returns the number of nodes whose label changed; the caller repeats until it is 0.
create or replace temp table cc_next as
with propagated as (
    select l.node_id, least(l.label, coalesce(min(n.label), l.label)) as label
    from cc_labels as l
    left join cc_edges as e on e.src = l.node_id
    left join cc_labels as n on n.node_id = e.dst
    group by l.node_id, l.label
)
select p.node_id, q.label
from propagated as p
inner join propagated as q on q.node_id = p.label;

create or replace temp table cc_changed as
select count(*) as changed
from cc_next as n
inner join cc_labels as l on l.node_id = n.node_id
where n.label <> l.label;

create or replace temp table cc_labels as select * from cc_next;

select changed from cc_changed;
