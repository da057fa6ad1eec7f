{#- Activation platforms match on the SHA-256 of the identifier, so every mart that feeds them
    hashes through this one macro: the same text gives the same hex on every warehouse. -#}
{% macro hash_sha256(expression) -%}
    {{ return(adapter.dispatch('hash_sha256', 'klant')(expression)) }}
{%- endmacro %}

{#- PostgreSQL 11+: sha256() takes bytes, so the text is encoded as UTF-8 first #}
{% macro default__hash_sha256(expression) -%}
    encode(sha256(convert_to({{ expression }}, 'UTF8')), 'hex')
{%- endmacro %}

{% macro duckdb__hash_sha256(expression) -%}
    sha256({{ expression }})
{%- endmacro %}

{% macro spark__hash_sha256(expression) -%}
    sha2({{ expression }}, 256)
{%- endmacro %}
