"""ISCN parser on real-world karyotype strings (ISCN 2016/2020 examples and ALL/AML literature)."""
import pytest
from hypothesis import given, strategies as st

from analytics.genomics.karyotype import (PLOIDY_BANDS, masked_hypodiploidy_reason, parse_karyotype, ploidy_category,
                                 short_label)

# text, expected modal number, expected category, doubled-hypodiploid flag
KARYOTYPES = [
    ("46,XX[20]", 46, "diploid", False),
    ("46,XY,t(9;22)(q34;q11.2)[20]", 46, "diploid", False),                          # Ph+ ALL
    ("45,X,-Y[15]/46,XY[5]", 45, "near-diploid", False),
    ("46,XX,t(12;21)(p13;q22)[15]/47,idem,+21[5]/46,XX[3]", 46, "diploid", False),  # stemline + sideline
    ("55,XY,+X,+4,+6,+10,+14,+17,+18,+21,+21[18]/46,XY[2]", 55, "hyperdiploid", False),
    ("26,XX,+14,+18,+21[12]/52,idemx2[8]", 26, "near-haploid", True),                 # doubled near-haploid
    ("34,X,-X,-2,-3,-4,-7,-12,-13,-15,-16,-17,-20[10]", 34, "low hypodiploid", False),
    ("33,XY,-2,-3,-4,-5,-7,-12,-13,-15,-16,-17,-20,-22[6]/66,idemx2[14]", 33, "low hypodiploid", True),
    ("38,X,-X,-3,-7,-9,-13,-15,-16,-17[7]/76,idemx2[5]/46,XX[8]", 38, "low hypodiploid", True),
    ("45,XY,-7[12]/46,XY[8]", 45, "near-diploid", False),
    ("45,XX,dic(9;20)(p13.2;q11.2)[14]/46,XX[6]", 45, "near-diploid", False),
    ("44,X,-X,dic(7;9)(p11;p11)[10]", 44, "near-diploid", False),
    ("46,XY,t(4;11)(q21;q23)[20]", 46, "diploid", False),                             # KMT2A::AFF1
    ("46,XX,t(1;19)(q23;p13.3)[18]/46,XX[2]", 46, "diploid", False),                  # TCF3::PBX1
    ("45~48,XY,+8,-13[cp10]", 45, "near-diploid", False),                             # composite, range
    ("47,XX,+8[5]/48,idem,+21[3]/46,XX[12]", 47, "hyperdiploid", False),
    ("41~44,XY,-3,-7,-17[cp8]", 41, "high hypodiploid", False),
    ("58<3n>,XXY,-3,-5[10]", 58, "hyperdiploid", False),                              # ploidy level
    ("<2n>,XY,+4,+10,+17[10]", 49, "hyperdiploid", False),                            # level without count
    ("92,XXYY[3]/46,XY[17]", 92, "hyperdiploid", False),                              # tetraploid
    ("46,XX,del(9)(p21)[8]/46,XX[12]", 46, "diploid", False),
    ("46,XY,i(17)(q10)[15]", 46, "diploid", False),
    ("45,XX,-7,inv(3)(q21q26.2)[20]", 45, "near-diploid", False),
    ("48,XY,+X,t(9;22)(q34;q11.2),+der(22)t(9;22)(q34;q11.2)[20]", 48, "hyperdiploid", False),
    ("46,XX,inv(16)(p13.1q22)[20]", 46, "diploid", False),
    ("52,XY,+X,+4,+6,+10,+14,+21[9]/53,sl,+18[6]/46,XY[5]", 52, "hyperdiploid", False),
    ("46,XY,t(8;14)(q24;q32)[20]", 46, "diploid", False),                             # Burkitt
    ("42,XY,-3,-7,-15,-17[9]/46,XY[11]", 42, "high hypodiploid", False),
    ("47,XY,+21c[20]", 47, "hyperdiploid", False),                                    # constitutional: count as written
    ("46~47,XY,+21c,t(12;21)(p13;q22)[cp9]", 46, "diploid", False),
    ("36,XY,-3,-4,-7,-12,-13,-15,-16,-17,-20,-22[6]/72,idemx2[4]/46,XY[10]", 36, "low hypodiploid", True),
]

UNPARSEABLE = [
    (None, "no karyotype recorded"),
    ("", "no karyotype recorded"),
    ("no analyzable metaphases", "no metaphases"),
    ("Culture failed", "no metaphases"),
    ("normal male karyotype", "could not read a chromosome count"),
    ("46XY", "could not read a chromosome count"),
    ("XY,46[20]", "could not read a chromosome count"),
    ("idem,+8[5]", "without a stemline"),
    ("300,XX[20]", "implausible chromosome count"),
    ("46,XX,t(9;22)[20]//46,XX[5]", "empty clone"),
    ("46,t(9;22)(q34;q11.2)[20]", "lacks the sex chromosomes"),
]


def test_table_has_at_least_25_real_world_strings():
    assert len(KARYOTYPES) >= 25


@pytest.mark.parametrize("text,modal,category,doubled", KARYOTYPES)
def test_modal_number_and_category(text, modal, category, doubled):
    k = parse_karyotype(text)
    assert k.reason is None, k.reason
    assert k.modal_number == modal
    assert k.category == category
    assert k.doubled_hypodiploid is doubled
    assert len(k.clones) == text.count("/") + 1


@pytest.mark.parametrize("text,reason", UNPARSEABLE)
def test_unparseable_strings_say_why(text, reason):
    k = parse_karyotype(text)
    assert k.modal_number is None and not k.parsed
    assert reason in k.reason


def test_composite_and_range_are_kept_on_the_clone():
    clone = parse_karyotype("45~48,XY,+8,-13[cp10]").clones[0]
    assert (clone.count_low, clone.count_high, clone.cells, clone.composite) == (45, 48, 10, True)


def test_sideline_counts_follow_the_stemline():
    k = parse_karyotype("47,XX,+8[5]/48,idem,+21[3]/46,XX[12]")
    assert [c.count for c in k.clones] == [47, 48, 46]
    assert k.clones[1].sideline_of_previous and k.clones[2].normal


def test_structural_labels():
    k = parse_karyotype("44,XX,del(5)(q31q35),-7,-17,add(19)(p13)[7]/46,XX[13]")
    assert k.structural == ("del(5q)", "add(19p)")
    assert short_label("t(9;22)(q34.1;q11.2)") == "t(9;22)"
    assert short_label("-7") is None


@pytest.mark.parametrize("n,expected", [(23, None), (24, "near-haploid"), (31, "near-haploid"),
                                        (32, "low hypodiploid"), (39, "low hypodiploid"),
                                        (40, "high hypodiploid"), (43, "high hypodiploid"),
                                        (44, "near-diploid"), (45, "near-diploid"), (46, "diploid"),
                                        (47, "hyperdiploid"), (None, None)])
def test_band_boundaries(n, expected):
    assert ploidy_category(n) == expected


@given(st.integers(min_value=24, max_value=100))
def test_every_count_has_exactly_one_band(n):
    assert sum(lo <= n <= hi for _, lo, hi in PLOIDY_BANDS) == 1
    assert parse_karyotype(f"{n},XX[10]").modal_number == n


def test_masked_hypodiploidy_flags():
    hyper = parse_karyotype("60,XX,+X,+1,+5,+6,+8,+9,+10,+11,+14,+18,+19,+21,+21,+22[12]/46,XX[8]")
    assert masked_hypodiploidy_reason(hyper, "mutated") is not None
    assert masked_hypodiploidy_reason(hyper, "wild-type") is None
    assert masked_hypodiploidy_reason(hyper, None) is None      # not evaluated is not "mutated"
    doubled = parse_karyotype("33,XY,-2,-3,-4,-5,-7,-12,-13,-15,-16,-17,-20,-22[6]/66,idemx2[14]")
    assert "doubled" in masked_hypodiploidy_reason(doubled, None)
    assert masked_hypodiploidy_reason(parse_karyotype("46,XX[20]"), "mutated") is None
