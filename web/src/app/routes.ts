/**
 * Which page serves which path. The first pattern that matches wins, so longer paths come first;
 * the captured number is the page's `id`. A new page: a folder under `pages/`, one line here.
 */
import type { Page } from "../ui/page";
import { homePage } from "../pages/home/home-page";
import { projectPage } from "../pages/project/project-page";
import { boardPage } from "../pages/board/board-page";
import { reviewPage } from "../pages/review/review-page";
import { modelsPage } from "../pages/models/models-page";
import { runRedirect, trainingJobPage } from "../pages/training-job/training-job-page";
import { queuePage } from "../pages/queue/queue-page";
import { agreementPage, studyOrRadiographPage } from "./study-route";

export const ROUTES: [RegExp, Page][] = [
  [/^\/studies\/(\d+)\/review/, reviewPage],
  [/^\/projects\/(\d+)\/board/, boardPage],
  [/^\/projects\/(\d+)\/agreement/, agreementPage],
  [/^\/projects\/(\d+)\/models/, modelsPage],
  [/^\/training\/jobs\/(\d+)/, trainingJobPage],
  [/^\/training\/runs\/(\d+)/, runRedirect],
  [/^\/queue$/, queuePage],
  [/^\/studies\/(\d+)/, studyOrRadiographPage],  // CT, or the 2D radiograph page
  [/^\/projects\/(\d+)/, projectPage],
];
/** Any other path. */
export const FALLBACK: Page = homePage;
