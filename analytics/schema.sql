-- Cohort schema. Times are integer days relative to B-ALL diagnosis (day 0; negative = before).
-- Days lie within +/-36525 (100 years) of that day 0.
-- No names, record numbers or calendar dates. "Not evaluated" is NULL, never a negative value.
-- Endpoints are views over the stored facts: nothing derived is stored twice.

-- One row describing the cohort: its name and whether it is synthetic (shown on every page).
CREATE TABLE cohort_info (
    cohort_name       VARCHAR NOT NULL,
    synthetic         BOOLEAN NOT NULL,
    description       VARCHAR NOT NULL
);

CREATE TABLE patients (
    patient_id                    VARCHAR PRIMARY KEY,   -- pseudonym, e.g. S01
    institution                   VARCHAR NOT NULL,
    sex                           VARCHAR CHECK (sex IN ('F', 'M')),  -- NULL = not recorded by the source
    age_at_myeloma_dx             INTEGER CHECK (age_at_myeloma_dx BETWEEN 18 AND 110),
    age_at_ball_dx                INTEGER CHECK (age_at_ball_dx BETWEEN 18 AND 110),
    myeloma_auto_hct              BOOLEAN,               -- high-dose melphalan with autologous rescue
    myeloma_lines_with_len        INTEGER CHECK (myeloma_lines_with_len >= 1),
    len_cumulative_days           INTEGER CHECK (len_cumulative_days BETWEEN 0 AND 36525),  -- as reported; only
                                                         -- for a patient without course events
    lineage                       VARCHAR CHECK (lineage IN ('B', 'T')),
    wbc_k_per_ul                  DOUBLE CHECK (wbc_k_per_ul >= 0),
    marrow_blast_pct              DOUBLE CHECK (marrow_blast_pct BETWEEN 0 AND 100),
    cd10                          VARCHAR CHECK (cd10 IN ('positive', 'negative')),
    cd19                          VARCHAR CHECK (cd19 IN ('positive', 'negative')),
    cd20                          VARCHAR CHECK (cd20 IN ('positive', 'negative')),
    cd22                          VARCHAR CHECK (cd22 IN ('positive', 'negative')),
    cns_status                    VARCHAR CHECK (cns_status IN ('CNS1', 'CNS2', 'CNS3')),
    bcr_abl1                      VARCHAR CHECK (bcr_abl1 IN ('positive', 'negative')),
    karyotype_iscn                VARCHAR,
    modal_chromosome_number       INTEGER CHECK (modal_chromosome_number BETWEEN 20 AND 100),
    ploidy_category               VARCHAR CHECK (ploidy_category IN (
                                      'near-haploid', 'low hypodiploid', 'high hypodiploid',
                                      'near-diploid', 'diploid', 'hyperdiploid')),
    sequencing_assay              VARCHAR               -- NULL = not sequenced: genes not evaluated
);

CREATE TABLE events (
    event_id          INTEGER PRIMARY KEY,
    patient_id        VARCHAR NOT NULL REFERENCES patients (patient_id),
    event_type        VARCHAR NOT NULL CHECK (event_type IN (
                          'lenalidomide_course', 'treatment_line', 'response_assessment',
                          'hct', 'relapse', 'death', 'last_contact')),
    day               INTEGER NOT NULL CHECK (day BETWEEN -36525 AND 36525),
    end_day           INTEGER CHECK (end_day BETWEEN -36525 AND 36525),
    line              INTEGER CHECK (line >= 1),
    regimen           VARCHAR,
    regimen_category  VARCHAR CHECK (regimen_category IN (
                          'intensive chemotherapy', 'reduced-intensity with inotuzumab',
                          'blinatumomab-based', 'TKI-based', 'low-intensity', 'CAR T', 'other')),
    response          VARCHAR CHECK (response IN ('CR', 'CRi', 'PR', 'refractory', 'not evaluable')),
    mrd_status        VARCHAR CHECK (mrd_status IN ('negative', 'positive')),
    mrd_method        VARCHAR,
    mrd_sensitivity   DOUBLE CHECK (mrd_sensitivity > 0 AND mrd_sensitivity < 1),
    disease_status    VARCHAR CHECK (disease_status IN ('no evidence of B-ALL', 'B-ALL present')),
    cause             VARCHAR,
    note              VARCHAR,
    CHECK (end_day IS NULL OR end_day >= day)
);

CREATE TABLE mutations (
    patient_id        VARCHAR NOT NULL REFERENCES patients (patient_id),
    gene              VARCHAR NOT NULL,
    protein_change    VARCHAR,               -- HGVS protein notation, short form (p.R248Q)
    variant_class     VARCHAR NOT NULL CHECK (variant_class IN (
                          'Missense_Mutation', 'Nonsense_Mutation', 'Frame_Shift_Del',
                          'Frame_Shift_Ins', 'In_Frame_Del', 'In_Frame_Ins', 'Splice_Site')),
    vaf               DOUBLE CHECK (vaf > 0 AND vaf <= 1),
    assay             VARCHAR NOT NULL
);

CREATE TABLE measurements (
    patient_id        VARCHAR NOT NULL REFERENCES patients (patient_id),
    day               INTEGER NOT NULL CHECK (day BETWEEN -36525 AND 36525),
    specimen          VARCHAR NOT NULL CHECK (specimen IN ('marrow', 'blood')),
    analyte           VARCHAR NOT NULL CHECK (analyte IN (
                          'b_lymphoblasts_pct', 'immature_b_pct', 'marrow_blasts_pct')),
    value             DOUBLE CHECK (value >= 0 AND value <= 100),  -- NULL when below detection
    unit              VARCHAR NOT NULL,
    lower_limit_of_detection DOUBLE CHECK (lower_limit_of_detection > 0),
    below_detection   BOOLEAN NOT NULL,
    method            VARCHAR NOT NULL,
    CHECK (below_detection = (value IS NULL))
);

-- Derived endpoints, one row per patient. Months = days / 30.4375 (done by the analytics layer).
CREATE VIEW patient_summary AS
WITH len AS (
    SELECT patient_id,
           min(day) AS len_first_day,
           max(coalesce(end_day, day)) AS len_last_stop_day
    FROM events WHERE event_type = 'lenalidomide_course' GROUP BY patient_id
), len_spans AS (
    -- Course days before diagnosis; an ongoing course (no end_day) runs to day 0.
    SELECT patient_id, day AS span_start, least(coalesce(end_day, 0), 0) AS span_end
    FROM events WHERE event_type = 'lenalidomide_course' AND day < 0
), len_reach AS (
    SELECT *, max(span_end) OVER (PARTITION BY patient_id ORDER BY span_start, span_end
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reached
    FROM len_spans
), len_islands AS (
    -- Overlapping or touching courses merge into one period on drug, so no day counts twice.
    SELECT *, sum(CASE WHEN reached IS NULL OR span_start > reached THEN 1 ELSE 0 END)
                  OVER (PARTITION BY patient_id ORDER BY span_start, span_end ROWS UNBOUNDED PRECEDING)
                  AS island
    FROM len_reach
), len_exposure AS (
    SELECT patient_id, sum(island_days) AS len_days_before_dx
    FROM (SELECT patient_id, island, max(span_end) - min(span_start) AS island_days
          FROM len_islands GROUP BY patient_id, island)
    GROUP BY patient_id
), lines AS (
    SELECT patient_id, min(day) AS first_treatment_day,
           arg_min(regimen, (line, day)) AS first_line_regimen,
           arg_min(regimen_category, (line, day)) AS first_line_regimen_category
    FROM events WHERE event_type = 'treatment_line' GROUP BY patient_id
), responses AS (
    SELECT patient_id,
           arg_min(response, CASE response WHEN 'CR' THEN 1 WHEN 'CRi' THEN 2 WHEN 'PR' THEN 3
                                           WHEN 'refractory' THEN 4 ELSE 5 END) AS best_response,
           min(day) FILTER (WHERE response IN ('CR', 'CRi')) AS first_cr_day,
           -- Induction failure: no CR/CRi in any first-line assessment; dated at the first one.
           CASE WHEN NOT coalesce(bool_or(response IN ('CR', 'CRi')) FILTER (WHERE line = 1), FALSE)
                THEN min(day) FILTER (WHERE line = 1) END AS induction_failure_day
    FROM events WHERE event_type = 'response_assessment' GROUP BY patient_id
), simple AS (
    SELECT patient_id,
           min(day) FILTER (WHERE event_type = 'hct') AS hct_day,
           min(day) FILTER (WHERE event_type = 'relapse') AS relapse_day,
           min(day) FILTER (WHERE event_type = 'death') AS death_day,
           arg_min(cause, day) FILTER (WHERE event_type = 'death') AS death_cause,
           max(day) FILTER (WHERE event_type = 'last_contact') AS last_contact_day,
           arg_max(disease_status, day) FILTER (WHERE event_type = 'last_contact')
               AS disease_status_at_last_contact
    FROM events GROUP BY patient_id
)
SELECT
    -- Exposure is derived from the courses when there are any; the reported value only without.
    p.* REPLACE (CASE WHEN len.len_first_day IS NULL THEN p.len_cumulative_days
                      ELSE CAST(coalesce(len_exposure.len_days_before_dx, 0) AS INTEGER)
                 END AS len_cumulative_days),
    -len.len_first_day AS latency_days,
    len.len_last_stop_day AS len_stop_day,
    CASE WHEN p.sequencing_assay IS NULL THEN NULL
         WHEN EXISTS (SELECT 1 FROM mutations m WHERE m.patient_id = p.patient_id AND m.gene = 'TP53')
         THEN 'mutated' ELSE 'wild-type' END AS tp53_status,
    lines.first_treatment_day IS NOT NULL AS treated,
    lines.first_treatment_day,
    lines.first_line_regimen,
    lines.first_line_regimen_category,
    responses.best_response,
    responses.first_cr_day,
    responses.induction_failure_day,
    simple.hct_day IS NOT NULL AS hct,
    simple.hct_day,
    simple.relapse_day,
    simple.death_day,
    simple.death_cause,
    simple.last_contact_day,
    CASE WHEN simple.death_day IS NULL THEN 'alive' ELSE 'dead' END AS vital_status,
    CASE WHEN simple.death_day IS NOT NULL THEN 'dead'
         ELSE coalesce(simple.disease_status_at_last_contact, 'unknown') END
        AS status_at_last_contact,
    coalesce(simple.death_day, simple.last_contact_day) AS os_days,
    simple.death_day IS NOT NULL AS os_event,
    least(responses.induction_failure_day, simple.relapse_day, simple.death_day) AS efs_event_day,
    coalesce(least(responses.induction_failure_day, simple.relapse_day, simple.death_day),
             simple.last_contact_day) AS efs_days,
    least(responses.induction_failure_day, simple.relapse_day, simple.death_day) IS NOT NULL
        AS efs_event
FROM patients p
LEFT JOIN len USING (patient_id)
LEFT JOIN len_exposure USING (patient_id)
LEFT JOIN lines USING (patient_id)
LEFT JOIN responses USING (patient_id)
LEFT JOIN simple USING (patient_id);
