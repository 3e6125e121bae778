// What a parent reads while the book waits for the gpu: "2 books ahead of yours, about 3 minutes".
import { type Lang, type MessageKey, translate } from "./i18n.ts";

export interface QueuePlace {
  position: number;
  pagesAhead: number;
  etaSeconds: number | null;
}

type Plural = "one" | "few" | "many" | "other";

function counted(lang: Lang, stem: "queue.ahead" | "queue.minutes", n: number): string {
  const form = new Intl.PluralRules(lang).select(n);
  const plural: Plural = form === "one" || form === "few" || form === "many" ? form : "other";
  return translate(lang, `${stem}.${plural}` as MessageKey, { n });
}

/** The waiting line in the parent's language; the ETA part only once the runners have measured pages. */
export function queueText(lang: Lang, place: QueuePlace): string {
  const ahead = place.position - 1;
  const where = ahead > 0 ? counted(lang, "queue.ahead", ahead) : translate(lang, "queue.next");
  if (place.etaSeconds === null) return where;
  const when =
    place.etaSeconds < 60
      ? translate(lang, "queue.soon")
      : counted(lang, "queue.minutes", Math.round(place.etaSeconds / 60));
  return `${where}, ${when}`;
}
