"""PS3.15 Annex E, Table E.1-1: Basic Application Level Confidentiality Profile actions.

Written from the standard's table (keywords as in pydicom's data dictionary, which maps them to
tags). Actions: ``D`` replace with a dummy value, ``Z`` empty (or dummy), ``X`` remove,
``K`` keep, ``C`` clean, ``U`` replace UID consistently. Where the standard gives a choice
(``X/Z``, ``X/D``, ``Z/D``, ``X/Z/D``, ``X/Z/U*``) the more protective ``X`` is used unless the
attribute is Type 1/2 in the CT Image IOD, listed in :data:`TYPE1_TYPE2_IN_CT`, where ``Z`` (or
``D``) keeps the exported dataset valid.

Two safety nets go beyond the table (see :mod:`lunglab.io.deid.dataset`): every private
element and every curve (50xx) / overlay (60xx) group is removed, and any other element with a
person-name (PN) value or an unlisted date/time is emptied or removed. The table's repeating
group entries (Curve Data 50xx, Overlay Data/Comments 60xx) are covered by the group removal.
"""
from __future__ import annotations

from pydicom.datadict import dictionary_VR, tag_for_keyword

# (keyword, action as in the standard's Basic Profile column)
_TABLE: tuple[tuple[str, str], ...] = (
    ("AccessionNumber", "Z"), ("AcquisitionComments", "X"), ("AcquisitionContextSequence", "X"),
    ("AcquisitionDate", "X/D"), ("AcquisitionDateTime", "X/D"),
    ("AcquisitionDeviceProcessingDescription", "X/D"), ("AcquisitionProtocolDescription", "X"),
    ("AcquisitionTime", "X/D"), ("ActualHumanPerformersSequence", "X"),
    ("AdditionalPatientHistory", "X"), ("AdmissionID", "X"), ("AdmittingDate", "X"),
    ("AdmittingDiagnosesCodeSequence", "X"), ("AdmittingDiagnosesDescription", "X"),
    ("AdmittingTime", "X"), ("AffectedSOPInstanceUID", "X"), ("Allergies", "X"),
    ("Arbitrary", "X"), ("AuthorObserverSequence", "X"), ("BranchOfService", "X"),
    ("CassetteID", "X"), ("CommentsOnThePerformedProcedureStep", "X"),
    ("ConcatenationUID", "U"), ("ConfidentialityConstraintOnPatientDataDescription", "X"),
    ("ConsultingPhysicianName", "Z"), ("ConsultingPhysicianIdentificationSequence", "X"),
    ("ContentCreatorName", "Z/D"), ("ContentCreatorIdentificationCodeSequence", "X"),
    ("ContentDate", "Z/D"), ("ContentSequence", "X"), ("ContentTime", "Z/D"),
    ("ContextGroupExtensionCreatorUID", "U"), ("ContrastBolusAgent", "Z/D"),
    ("ContributionDescription", "X"), ("CountryOfResidence", "X"), ("CreatorVersionUID", "U"),
    ("CurrentPatientLocation", "X"), ("CurveDate", "X"), ("CurveTime", "X"),
    ("CustodialOrganizationSequence", "X"), ("DataSetTrailingPadding", "X"),
    ("DerivationDescription", "X"), ("DetectorID", "X/D"), ("DeviceSerialNumber", "X/Z/D"),
    ("DeviceUID", "U"), ("DigitalSignatureUID", "X"), ("DigitalSignaturesSequence", "X"),
    ("DimensionOrganizationUID", "U"), ("DischargeDiagnosisDescription", "X"),
    ("DistributionAddress", "X"), ("DistributionName", "X"), ("DoseReferenceUID", "U"),
    ("EndAcquisitionDateTime", "X/D"), ("EthnicGroup", "X"),
    ("ExpectedCompletionDateTime", "X"), ("FailedSOPInstanceUIDList", "U"),
    ("FiducialUID", "U"), ("FillerOrderNumberImagingServiceRequest", "Z"),
    ("FrameComments", "X"), ("FrameOfReferenceUID", "U"), ("GantryID", "X"),
    ("GeneratorID", "X"), ("GraphicAnnotationSequence", "D"), ("HumanPerformerName", "X"),
    ("HumanPerformerOrganization", "X"), ("IconImageSequence", "X"), ("IdentifyingComments", "X"),
    ("ImageComments", "X"), ("ImagePresentationComments", "X"),
    ("ImagingServiceRequestComments", "X"), ("Impressions", "X"),
    ("InstanceCreationDate", "X/D"), ("InstanceCreationTime", "X/Z/D"),
    ("InstanceCreatorUID", "U"), ("InstitutionAddress", "X"),
    ("InstitutionCodeSequence", "X/Z/D"), ("InstitutionName", "X/Z/D"),
    ("InstitutionalDepartmentName", "X"), ("InsurancePlanIdentification", "X"),
    ("IntendedRecipientsOfResultsIdentificationSequence", "X"),
    ("InterpretationApproverSequence", "X"), ("InterpretationAuthor", "X"),
    ("InterpretationDiagnosisDescription", "X"), ("InterpretationIDIssuer", "X"),
    ("InterpretationRecorder", "X"), ("InterpretationText", "X"),
    ("InterpretationTranscriber", "X"), ("IrradiationEventUID", "U"),
    ("IssuerOfAdmissionID", "X"), ("IssuerOfPatientID", "X"), ("IssuerOfServiceEpisodeID", "X"),
    ("LargePaletteColorLookupTableUID", "U"), ("LastMenstrualDate", "X"), ("MAC", "X"),
    ("MediaStorageSOPInstanceUID", "U"), ("MedicalAlerts", "X"),
    ("MedicalRecordLocator", "X"), ("MilitaryRank", "X"), ("ModifiedAttributesSequence", "X"),
    ("ModifiedImageDescription", "X"), ("ModifyingDeviceID", "X"),
    ("ModifyingDeviceManufacturer", "X"), ("NameOfPhysiciansReadingStudy", "X"),
    ("NamesOfIntendedRecipientsOfResults", "X"), ("ObservationUID", "U"), ("Occupation", "X"),
    ("OperatorIdentificationSequence", "X/D"), ("OperatorsName", "X/Z/D"),
    ("OriginalAttributesSequence", "X"), ("OrderCallbackPhoneNumber", "X"),
    ("OrderEnteredBy", "X"), ("OrderEntererLocation", "X"), ("OtherPatientIDs", "X"),
    ("OtherPatientIDsSequence", "X"), ("OtherPatientNames", "X"), ("OverlayDate", "X"),
    ("OverlayTime", "X"),
    ("ParticipantSequence", "X"), ("PatientAddress", "X"), ("PatientComments", "X"),
    ("PatientID", "Z"), ("PatientSexNeutered", "X/Z"), ("PatientState", "X"),
    ("PatientTransportArrangements", "X"), ("PatientAge", "X"), ("PatientBirthDate", "Z"),
    ("PatientBirthName", "X"), ("PatientBirthTime", "X"),
    ("PatientInstitutionResidence", "X"), ("PatientInsurancePlanCodeSequence", "X"),
    ("PatientMotherBirthName", "X"), ("PatientName", "Z"),
    ("PatientPrimaryLanguageCodeSequence", "X"),
    ("PatientPrimaryLanguageModifierCodeSequence", "X"),
    ("PatientReligiousPreference", "X"), ("PatientSex", "Z"), ("PatientSize", "X"),
    ("PatientTelephoneNumbers", "X"), ("PatientWeight", "X"), ("PerformedLocation", "X"),
    ("PerformedProcedureStepDescription", "X"), ("PerformedProcedureStepEndDate", "X"),
    ("PerformedProcedureStepEndTime", "X"), ("PerformedProcedureStepID", "X"),
    ("PerformedProcedureStepStartDate", "X"), ("PerformedProcedureStepStartTime", "X"),
    ("PerformedStationAETitle", "X"), ("PerformedStationGeographicLocationCodeSequence", "X"),
    ("PerformedStationName", "X"), ("PerformedStationNameCodeSequence", "X"),
    ("PerformingPhysicianIdentificationSequence", "X"), ("PerformingPhysicianName", "X"),
    ("PersonAddress", "X"), ("PersonIdentificationCodeSequence", "D"), ("PersonName", "D"),
    ("PersonTelephoneNumbers", "X"), ("PhysicianApprovingInterpretation", "X"),
    ("PhysiciansReadingStudyIdentificationSequence", "X"), ("PhysiciansOfRecord", "X"),
    ("PhysiciansOfRecordIdentificationSequence", "X"),
    ("PlacerOrderNumberImagingServiceRequest", "Z"), ("PlateID", "X"), ("PreMedication", "X"),
    ("PregnancyStatus", "X"), ("ProtocolName", "X/D"),
    ("ReasonForTheImagingServiceRequest", "X"), ("ReasonForStudy", "X"),
    ("ReferencedDigitalSignatureSequence", "X"), ("ReferencedFrameOfReferenceUID", "U"),
    ("ReferencedGeneralPurposeScheduledProcedureStepTransactionUID", "U"),
    ("ReferencedImageSequence", "X/Z/U*"), ("ReferencedPatientAliasSequence", "X"),
    ("ReferencedPatientSequence", "X"), ("ReferencedPerformedProcedureStepSequence", "X/Z/D"),
    ("ReferencedSOPInstanceMACSequence", "X"), ("ReferencedSOPInstanceUID", "U"),
    ("ReferencedSOPInstanceUIDInFile", "U"), ("ReferencedStudySequence", "X/Z"),
    ("ReferringPhysicianAddress", "X"), ("ReferringPhysicianIdentificationSequence", "X"),
    ("ReferringPhysicianName", "Z"), ("ReferringPhysicianTelephoneNumbers", "X"),
    ("RegionOfResidence", "X"), ("RelatedFrameOfReferenceUID", "U"),
    ("RequestAttributesSequence", "X"), ("RequestedContrastAgent", "X"),
    ("RequestedProcedureComments", "X"), ("RequestedProcedureDescription", "X/Z"),
    ("RequestedProcedureID", "X"), ("RequestedProcedureLocation", "X"),
    ("RequestedSOPInstanceUID", "U"), ("RequestingPhysician", "X"), ("RequestingService", "X"),
    ("ResponsibleOrganization", "X"), ("ResponsiblePerson", "X"), ("ResultsComments", "X"),
    ("ResultsDistributionListSequence", "X"), ("ResultsIDIssuer", "X"),
    ("ReviewerName", "X/Z"), ("ScheduledHumanPerformersSequence", "X"),
    ("ScheduledPatientInstitutionResidence", "X"),
    ("ScheduledPerformingPhysicianIdentificationSequence", "X"),
    ("ScheduledPerformingPhysicianName", "X"), ("ScheduledProcedureStepEndDate", "X"),
    ("ScheduledProcedureStepEndTime", "X"), ("ScheduledProcedureStepDescription", "X"),
    ("ScheduledProcedureStepLocation", "X"), ("ScheduledProcedureStepStartDate", "X"),
    ("ScheduledProcedureStepStartTime", "X"), ("ScheduledStationAETitle", "X"),
    ("ScheduledStationGeographicLocationCodeSequence", "X"), ("ScheduledStationName", "X"),
    ("ScheduledStationNameCodeSequence", "X"), ("ScheduledStudyLocation", "X"),
    ("ScheduledStudyLocationAETitle", "X"), ("SeriesDate", "X/D"),
    ("SeriesDescription", "X"), ("SeriesInstanceUID", "U"), ("SeriesTime", "X/D"),
    ("ServiceEpisodeDescription", "X"), ("ServiceEpisodeID", "X"), ("SmokingStatus", "X"),
    ("SOPInstanceUID", "U"), ("SourceImageSequence", "X/Z/U*"), ("SpecialNeeds", "X"),
    ("StationName", "X/Z/D"), ("StorageMediaFileSetUID", "U"), ("StudyComments", "X"),
    ("StudyDate", "Z"), ("StudyDescription", "X"), ("StudyID", "Z"), ("StudyIDIssuer", "X"),
    ("StudyInstanceUID", "U"), ("StudyTime", "Z"),
    ("SynchronizationFrameOfReferenceUID", "U"), ("TemplateExtensionCreatorUID", "U"),
    ("TemplateExtensionOrganizationUID", "U"), ("TextComments", "X"), ("TextString", "X"),
    ("TimezoneOffsetFromUTC", "X"), ("TopicAuthor", "X"), ("TopicKeywords", "X"),
    ("TopicSubject", "X"), ("TopicTitle", "X"), ("TransactionUID", "U"), ("UID", "U"),
    ("VerifyingObserverIdentificationCodeSequence", "Z"), ("VerifyingObserverName", "D"),
    ("VerifyingObserverSequence", "D"), ("VerifyingOrganization", "X"), ("VisitComments", "X"),
    ("ClinicalTrialSponsorName", "D"), ("ClinicalTrialProtocolID", "D"),
    ("ClinicalTrialProtocolName", "Z"), ("ClinicalTrialSiteID", "Z"),
    ("ClinicalTrialSiteName", "Z"), ("ClinicalTrialSubjectID", "D"),
    ("ClinicalTrialSubjectReadingID", "D"), ("ClinicalTrialTimePointID", "Z"),
    ("ClinicalTrialTimePointDescription", "X"), ("ClinicalTrialCoordinatingCenterName", "Z"),
    ("ClinicalTrialProtocolEthicsCommitteeName", "D"),
    ("ClinicalTrialProtocolEthicsCommitteeApprovalNumber", "X"),
    ("ClinicalTrialSeriesID", "X"), ("ClinicalTrialSeriesDescription", "X"),
    ("DateOfLastCalibration", "X"), ("TimeOfLastCalibration", "X"),
    ("DateOfSecondaryCapture", "X"), ("TimeOfSecondaryCapture", "X"),
    ("SoftwareVersions", "X/Z/D"), ("DeviceDescription", "X"),
    ("PatientBirthDateInAlternativeCalendar", "X"), ("PatientDeathDateInAlternativeCalendar", "X"),
    ("FrameAcquisitionDateTime", "X/D"), ("FrameReferenceDateTime", "X/D"),
    ("StartAcquisitionDateTime", "X/D"), ("PatientTelecomInformation", "X"),
    ("ResponsiblePersonRole", "X/Z"), ("DeviceAlternateIdentifier", "X/Z/D"),
    ("SpecimenUID", "U"), ("SpecimenAccessionNumber", "X"), ("ContainerIdentifier", "Z"),
)

#: Attributes that are Type 1 or 2 in the CT Image IOD: emptied (or pseudonymised), not removed.
TYPE1_TYPE2_IN_CT = frozenset({
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
    "ReferringPhysicianName", "StudyID", "AccessionNumber", "ContentDate", "ContentTime",
    "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID",
    "MediaStorageSOPInstanceUID", "ContrastBolusAgent",
})


def _resolve(action: str, keyword: str) -> str:
    """Pick one action from the standard's choices (see module docstring)."""
    choices = action.replace("*", "").split("/")
    if len(choices) == 1:
        return choices[0]
    if keyword in TYPE1_TYPE2_IN_CT:
        return "Z" if "Z" in choices else "D"
    return "X"


#: keyword -> resolved action (one of D, Z, X, U).
BASIC_PROFILE: dict[str, str] = {kw: _resolve(act, kw) for kw, act in _TABLE}
#: keyword -> the action as printed in the standard (for documentation and tests).
BASIC_PROFILE_STANDARD: dict[str, str] = dict(_TABLE)
#: tag (int) -> resolved action, for the keywords known to pydicom's dictionary.
BASIC_PROFILE_BY_TAG: dict[int, str] = {
    int(tag): BASIC_PROFILE[kw] for kw in BASIC_PROFILE
    if (tag := tag_for_keyword(kw)) is not None
}


def profile_vr(keyword: str) -> str:
    """The VR of a profile attribute from pydicom's dictionary."""
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(keyword)
    return str(dictionary_VR(tag))
