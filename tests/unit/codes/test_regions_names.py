from yibao.analytics.indicators import label
from yibao.codes.regions import region_name


def test_districts_of_the_demo_region_have_names() -> None:
    assert region_name("110108") == "海淀区"
    assert region_name("110199") == "北京市(统筹区)"


def test_other_codes_fall_back_to_the_province_or_nothing() -> None:
    assert region_name("320102") == "江苏省 320102"
    assert region_name("990000") is None


def test_the_region_dimension_is_labelled() -> None:
    assert label("region", "110112") == "通州区"
