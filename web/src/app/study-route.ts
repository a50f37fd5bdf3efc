/**
 * Pages that depend on what a study or project holds: a radiograph (CR, DX, XR) opens in the 2D
 * radiograph page, anything else in the CT study page; the agreement page shows the radiograph
 * section under the label-map dashboard when the project has radiograph readings.
 */
import * as api from "../core/api";
import type { Page } from "../ui/page";
import { dashboardPage } from "../pages/agreement/dashboard-page";
import { radiographAgreementSection } from "../pages/radiograph/agreement-section";
import { radiographPage } from "../pages/radiograph/radiograph-page";
import { studyPage } from "../pages/study/study-page";

const RADIOGRAPH = new Set(["CR", "DX", "XR"]);

export const studyOrRadiographPage: Page = async (app, session, id) => {
  let modality = "";
  try { modality = (await api.study(id)).modality ?? ""; } catch { /* the study page reports it */ }
  return RADIOGRAPH.has(modality.toUpperCase()) ? radiographPage(app, session, id) : studyPage(app, session, id);
};

export const agreementPage: Page = async (app, session, id) => {
  const cleanup = await dashboardPage(app, session, id);
  const section = await radiographAgreementSection(id);
  if (section) app.append(section);
  return cleanup;
};
