"""Mutations: the diagnostic samples' protein-altering rows of the MAF (Variant_Classification,
Hugo_Symbol, HGVSp_Short, VAF from the allele counts); other columns counted as not mapped."""
from __future__ import annotations

import re
from collections import Counter

from analytics.importing.cbioportal.cells import INTEGER, MappedTable, cell_text, listed_items
from analytics.importing.cbioportal.clinical import ChosenSamples
from analytics.importing.cbioportal.study import MAF_USED, Study
from analytics.importing.report import Report


KEPT_CLASSES = ("Missense_Mutation", "Nonsense_Mutation", "Frame_Shift_Del", "Frame_Shift_Ins",
                "In_Frame_Del", "In_Frame_Ins", "Splice_Site")
# MAF columns that describe the variant's place and annotation, never a person (GDC MAF
# specification, VEP and vcf2maf annotation, WashU '_WU' columns): listed as such when not mapped.
_GENOMIC_COLUMN = re.compile(
    r"^(?:entrez_gene_id|center|ncbi_build|chromosome|start_position|end_position|strand|variant_type|"
    r"reference_allele|tumor_seq_allele\d|dbsnp_\w+|matched_norm_sample_barcode|match_norm_\w+|"
    r"tumor_validation_\w+|verification_status|validation_\w+|mutation_status|sequencing_phase|"
    r"sequence_source|score|bam_file|sequencer|tumor_sample_uuid|matched_norm_sample_uuid|hgvs\w*|"
    r"transcript_id|exon_number|[tn]_(?:depth|ref_count|alt_count)|all_effects|allele|gene|feature|"
    r"feature_type|consequence|cdna_position|cds_position|protein_position|amino_acids?|codons|"
    r"existing_variation|allele_num|distance|symbol|symbol_source|hgnc_id|biotype|canonical|ccds|ensp|"
    r"swissprot|trembl|uniparc|refseq|sift|polyphen|exon|intron|domains|\w*_?maf|clin_sig|somatic|"
    r"pubmed|motif_\w+|high_inf_pos|impact|pick|variant_class|tsl|hgvs_offset|pheno|amino_acid_change|"
    r"ma:\S+|cbp_driver\w*|protein_change|refseq_mrna_id|\w+_wu|\w+\.(?:name|code)|evs_\w+|"
    r"normal_\w+|tumou?rs?_\w+|ensembl_gene_id|gene_name_source\w*|filter|flanking_bps|vcf_\w+|"
    r"variant_id|variant_qual|\w*gnomad\w*|[tn]_\w+|codon_change|transcript)$", re.I)


def map_mutations(study: Study, samples: ChosenSamples, report: Report) -> MappedTable:
    """The diagnostic samples' protein-altering variants; everything else counted as not mapped."""
    mutations = MappedTable("mutations", "mutations (mapped from the MAF)")
    assay = f"cBioPortal mutations ({', '.join(m.file for m in study.mafs)})"
    for maf in study.mafs:
        dropped: Counter = Counter()
        for row, m in maf.frame.iterrows():
            sid = cell_text(m["Tumor_Sample_Barcode"])
            pid = samples.patient_of.get(sid)
            if pid is None:
                report.error(maf.file, f"sample '{sid}' is not in the sample file",
                             "Add the sample to the sample file or correct Tumor_Sample_Barcode.",
                             row=int(row), column="Tumor_Sample_Barcode", value=sid)
                continue
            if sid != samples.chosen.get(pid):
                dropped["variant(s) of a sample that is not the patient's diagnostic sample (a later or "
                        "normal sample)"] += 1
                continue
            if cell_text(m.get("Mutation_Status")).lower() in ("wildtype", "none"):
                dropped["row(s) with Mutation_Status Wildtype/None (not a variant)"] += 1
                continue
            vclass = cell_text(m["Variant_Classification"])
            if vclass not in KEPT_CLASSES:
                dropped[f"variant(s) of class {vclass or '(empty)'} (not a protein-altering class the "
                        "app stores)"] += 1
                continue
            vaf = ""
            alt, ref = cell_text(m.get("t_alt_count")), cell_text(m.get("t_ref_count"))
            if INTEGER.match(alt) and INTEGER.match(ref) and float(alt) > 0:
                vaf = repr(float(alt) / (float(alt) + float(ref)))
            elif alt or ref:
                dropped["allele count(s) that are not whole numbers with t_alt_count > 0 (VAF left "
                        "empty)"] += 1
            mutations.add({"patient_id": pid, "gene": cell_text(m["Hugo_Symbol"]),
                           "protein_change": cell_text(m.get("HGVSp_Short")), "variant_class": vclass,
                           "vaf": vaf, "assay": assay}, maf.file, int(row),
                          {"patient_id": "Tumor_Sample_Barcode", "gene": "Hugo_Symbol",
                           "protein_change": "HGVSp_Short", "variant_class": "Variant_Classification",
                           "vaf": "t_alt_count/t_ref_count"})
        for what, n in sorted(dropped.items()):
            study.not_mapped.append(f"{maf.file}: {n} {what}.")
        extra = [c for c in maf.frame.columns if c not in MAF_USED]
        genomic = [c for c in extra if _GENOMIC_COLUMN.match(c)]
        other = [c for c in extra if c not in genomic]
        if genomic:
            study.not_mapped.append(f"{maf.file}: {len(genomic)} standard MAF column(s) of genomic coordinates, "
                                    f"alleles and annotation not used ({listed_items(genomic)}; not stored).")
        if other:
            study.not_mapped.append(f"{maf.file}: {len(other)} other column(s) not used ({listed_items(other)}; "
                                    "not stored).")
    return mutations
