// The render runner's capabilities, free of any job framework: a task wrapper parses its payload,
// reads objects from S3, calls these, and writes the results back.

export {
  type AssembledPrint,
  type AssemblePrintInput,
  assemblePrint,
  BLOCK_PAGE_PT,
  PRINT_JPEG,
  uploadPrintFiles,
} from "./assemble.ts";
export { createRenderEngines, type RenderEnginesOptions } from "./engines.ts";
export { fontFaceCss, type ReadBookFile } from "./fonts.ts";
export { escapeHtml, pageDocument, substitute, type Variables } from "./html.ts";
export { pageSize, type Rect, safeRect } from "./layout.ts";
export { type RenderedPage, type RenderPageInput, renderPage, WEB_SIZE, webCrop } from "./page.ts";
export { checkPdf, PrintCheckError, readPdfShape } from "./pdf-check.ts";
export {
  type Isolation,
  type PlatformFont,
  RenderTimeoutError,
  TextDoesNotFitError,
  type Typeset,
  Typesetter,
  type TypesetterOptions,
} from "./typesetter.ts";
