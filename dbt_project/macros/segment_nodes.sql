{#- The segment models (tag `segment`, every file in models/segments/), by name, from the
    project graph. Empty while dbt parses, when the graph is not filled in yet. -#}
{% macro segment_nodes() -%}
    {%- set segments = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() | sort(attribute='name') -%}
            {%- if node.resource_type == 'model' and 'segment' in node.tags -%}
                {%- do segments.append(node) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(segments) }}
{%- endmacro %}
