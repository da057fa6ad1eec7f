{#- The schemas the project touches, from the graph: `raw` the sources read (the loader's),
    `published` where models tagged published land (the publisher's, readable by the reader),
    `build` every other schema models and seeds land in (the transformer's). -#}
{% macro klant_grants_schemas() %}
    {%- set raw, published, build = [], [], [] -%}
    {%- for source in graph.sources.values() if source.package_name == project_name -%}
        {%- do raw.append(source.schema) if source.schema not in raw -%}
    {%- endfor -%}
    {%- set nodes = graph.nodes.values()
        | selectattr('package_name', 'equalto', project_name)
        | selectattr('resource_type', 'in', ['model', 'seed', 'snapshot'])
        | list -%}
    {%- for node in nodes if 'published' in node.tags -%}
        {%- do published.append(node.schema) if node.schema not in published -%}
    {%- endfor -%}
    {%- for node in nodes -%}
        {%- if node.schema not in published + build + raw -%}
            {%- do build.append(node.schema) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return({'raw': raw | sort, 'published': published | sort, 'build': build | sort}) }}
{% endmacro %}
