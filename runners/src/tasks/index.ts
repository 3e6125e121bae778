import analyze_photo from "./analyze_photo.ts";
import assemble_print from "./assemble_print.ts";
import deliver_webhook from "./deliver_webhook.ts";
import personalize_page from "./personalize_page.ts";
import render_page from "./render_page.ts";

/** Each runner kind registers only its own tasks. */
export const gpuTasks = [analyze_photo, personalize_page];
export const renderTasks = [render_page, assemble_print, deliver_webhook];
