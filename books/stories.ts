// The demo story, "Дивокрай" (Ukrainian, the original) and its English edition, over one set of page
// art; each edition has its own cover. The Ukrainian text declines the child's name
// ({child_name.gen}, .dat, .ins, .voc …: the forms stored when the parent names the child) and keeps
// verbs in the present tense, so it reads right for any name and either gender; the English text uses
// the possessive ({child_name.poss}).

import type { SceneSpec } from "./scenes.ts";

/** The art of the 24 block pages (the same for both editions). A page with a child has a face slot. */
export const PAGE_SCENES: SceneSpec[] = [
  { time: "morning", ground: "meadow", extras: ["house"], seed: 100 },
  { time: "morning", ground: "home", extras: ["window"], child: { x: 0.5, scale: 0.42 }, seed: 101 },
  { time: "day", ground: "meadow", seed: 102 },
  { time: "day", ground: "meadow", child: { x: 0.35, scale: 0.4 }, seed: 103 },
  { time: "day", ground: "forest", extras: ["hedgehog"], seed: 104 },
  { time: "day", ground: "forest", extras: ["hedgehog"], child: { x: 0.4, scale: 0.38 }, seed: 105 },
  { time: "day", ground: "forest", extras: ["oak"], child: { x: 0.3, scale: 0.34 }, seed: 106 },
  { time: "day", ground: "meadow", extras: ["stream"], child: { x: 0.62, scale: 0.38 }, seed: 107 },
  { time: "day", ground: "mountains", seed: 108 },
  { time: "day", ground: "sky", extras: ["kite"], seed: 109 },
  { time: "day", ground: "sky", extras: ["kite"], child: { x: 0.45, scale: 0.32, flying: true }, seed: 110 },
  { time: "day", ground: "sea", seed: 111 },
  { time: "day", ground: "sea", extras: ["castle"], child: { x: 0.7, scale: 0.36 }, seed: 112 },
  { time: "day", ground: "sea", extras: ["whale"], seed: 113 },
  { time: "day", ground: "sea", extras: ["whale"], child: { x: 0.58, scale: 0.3, on: "whale" }, seed: 114 },
  { time: "evening", ground: "island", extras: ["fireflies"], seed: 115 },
  { time: "evening", ground: "island", extras: ["fireflies"], seed: 116 },
  {
    time: "night",
    ground: "lake",
    extras: ["fireflies", "boat"],
    child: { x: 0.4, scale: 0.32, on: "boat" },
    seed: 117,
  },
  { time: "night", ground: "lake", extras: ["hedgehog"], seed: 118 },
  { time: "night", ground: "lake", extras: ["boat"], child: { x: 0.4, scale: 0.32, on: "boat" }, seed: 119 },
  { time: "night", ground: "lake", extras: ["fireflies"], seed: 120 },
  { time: "evening", ground: "meadow", extras: ["hedgehog"], child: { x: 0.4, scale: 0.38 }, seed: 121 },
  { time: "night", ground: "home", extras: ["house"], seed: 122 },
  { time: "night", ground: "meadow", extras: ["house", "fireflies"], seed: 123 },
];

export const BACK_SCENE: SceneSpec = { time: "night", ground: "lake", extras: ["fireflies"], seed: 201 };

export interface Edition {
  slug: string;
  language: string;
  title: string;
  description: string;
  category: string;
  /** Page texts 0–23; `{child_name}` is the child's name, `{child_name.<form>}` one of its forms. */
  pages: string[];
  /** The front cover's art: each edition its own. */
  frontScene: SceneSpec;
  front: { name: string; title: string };
  back: string;
}

export const UK: Edition = {
  slug: "dyvokrai",
  language: "uk",
  title: "Пригоди в Дивокраї",
  description: "Казка про сміливість, дружбу і зоряне бажання, де головну роль грає ваша дитина.",
  category: "Пригоди",
  pages: [
    "Ця книжка — для {child_name.gen}",
    "Одного сонячного ранку {child_name} визирає у вікно. Там, за пагорбами, починається Дивокрай.",
    "Стежка біжить через луг, де квіти дзвенять, мов маленькі дзвіночки.",
    "{child_name} іде стежкою і наспівує пісеньку. Метелики кружляють довкола.",
    "На узліссі чекає їжачок Тиць. — Привіт, {child_name.voc}! Ходімо разом? — питає він.",
    "{child_name} і Тиць заходять у Шепітливий ліс. Дерева тут розповідають казки.",
    "Під найстарішим дубом {child_name.dat} чути шепіт: «Шукай Зоряне озеро. Воно виконує одне бажання».",
    "{child_name} перестрибує через струмок — раз, два, три! — і сміється.",
    "За лісом — гори, високі-превисокі, а на вершинах сидять хмаринки.",
    "Повітряний змій спускається з неба: «{child_name.voc}, сідай, я тебе підвезу!»",
    "{child_name} летить над полями. Згори все таке маленьке й таке гарне.",
    "Змій опускає друзів біля моря. Хвилі шурхотять: шу-шу-шу.",
    "{child_name} будує на березі замок із піску — з вежами й містком.",
    "Кит Бульбас пропонує {child_name.dat} і Тицеві поплисти на Острів Світлячків.",
    "{child_name} пливе на спині кита і рахує хвилі: сто, двісті, тисяча!",
    "На острові вечоріє. Світлячки запалюють ліхтарики й кличуть {child_name.acc} за собою.",
    "Світлячки кружляють довкола {child_name.gen} і показують дорогу до Зоряного озера.",
    "{child_name} пливе човником по озеру, у якому плавають справжні зорі.",
    "«Загадай бажання, {child_name.voc}», — шепоче Тиць.",
    "{child_name} сидить у човнику, заплющує очі й загадує бажання. Тихенько-тихенько.",
    "Зорі здіймаються вгору й складаються у веселий візерунок.",
    "Друзі прощаються з {child_name.ins}: час повертатися додому.",
    "Вдома тепло і затишно. Зорі над дахом бажають {child_name.dat} на добраніч.",
    "Кінець.\nА бажання? Воно обовʼязково збудеться.",
  ],
  frontScene: {
    time: "morning",
    ground: "meadow",
    extras: ["house", "hedgehog"],
    child: { x: 0.5, scale: 0.4 },
    seed: 200,
  },
  front: { name: "{child_name}", title: "у Дивокраї" },
  back: "Казка про сміливість, дружбу і зоряне бажання.\nУ головній ролі — {child_name}.",
};

export const EN: Edition = {
  slug: "land-of-wonders",
  language: "en",
  title: "Adventures in the Land of Wonders",
  description: "A tale of courage, friendship and a wish upon a star, starring your child.",
  category: "Adventure",
  pages: [
    "This book belongs to\n{child_name}",
    "One sunny morning {child_name} looks out of the window. Beyond the hills lies the Land of Wonders.",
    "A path runs across a meadow where the flowers ring like tiny bells.",
    "{child_name} walks along the path, humming a song. Butterflies dance all around.",
    "At the edge of the wood waits Tyts the hedgehog. “Hello! Shall we go together?” he asks.",
    "{child_name} and Tyts step into the Whispering Wood. Here the trees tell stories.",
    "Under the oldest oak, {child_name} hears a whisper: “Find the Starry Lake. It grants one wish.”",
    "{child_name} jumps across the stream — one, two, three! — and laughs.",
    "Beyond the wood rise mountains, tall as tall can be, with little clouds sitting on top.",
    "A kite swoops down from the sky: “Climb on, I’ll give you a ride!”",
    "{child_name} flies over the fields. From up here everything looks small and lovely.",
    "The kite sets the friends down by the sea. The waves go shush-shush-shush.",
    "{child_name} builds a sandcastle on the shore, with towers and a little bridge.",
    "Bulbas the whale offers to carry the friends to Firefly Island.",
    "{child_name} rides on the whale’s back, counting waves: a hundred, two hundred, a thousand!",
    "Evening falls on the island. The fireflies light their lanterns.",
    "The fireflies show the way to the Starry Lake.",
    "{child_name} rows a little boat across a lake where real stars are swimming.",
    "“Make a wish,” whispers Tyts.",
    "Sitting in the boat, {child_name} closes both eyes and makes a wish, very quietly.",
    "The stars rise up and make a merry pattern in the sky.",
    "{child_name} thanks the friends for a wonderful day. Time to go home.",
    "Home is warm and cosy. The same stars shine over {child_name.poss} roof.",
    "The End.\nAnd {child_name.poss} wish? It will surely come true.",
  ],
  frontScene: {
    time: "day",
    ground: "sea",
    extras: ["whale"],
    child: { x: 0.58, scale: 0.28, on: "whale" },
    seed: 210,
  },
  front: { name: "{child_name}", title: "in the Land of Wonders" },
  back: "A tale of courage, friendship and a wish upon a star.\nStarring {child_name}.",
};
