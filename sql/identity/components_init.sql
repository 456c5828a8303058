-- Connected components, step 0: the graph without the nodes in `cc_excluded`, every node its
-- own label. Edges are stored in both directions so one join finds all neighbours.
create or replace temp table cc_edges as
with kept as (
    select node_a, node_b
    from intermediate.int_identity__edges
    where node_a not in (select node_id from cc_excluded)
        and node_b not in (select node_id from cc_excluded)
)
select node_a as src, node_b as dst from kept
union all
select node_b as src, node_a as dst from kept;

create or replace temp table cc_labels as
select node_id, node_id as label
from intermediate.int_identity__nodes
where node_id not in (select node_id from cc_excluded);
