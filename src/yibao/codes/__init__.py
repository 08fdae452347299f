"""National code standards: validators and dictionaries (码表). Pure: standard library only.

- `yibao.codes.validators`: `validate(kind, value) -> CodeCheck` for every code kind.
- `yibao.codes.dicts`: the dictionaries as enums with 中文 labels.
- `yibao.codes.dictionary`: `dictionary(name)` — values and labels by field name (1901).
- `yibao.codes.regions`: the GB/T 2260 province table and the admdvs rule.
"""
