import type { BotScript } from './scripts.js';

const MENU = [
  { text: 'Show a card', payload: 'card' },
  { text: 'Show a carousel', payload: 'carousel' },
  { text: 'Send me a file', payload: 'file' },
  { text: 'Talk to a person', payload: 'agent' },
  { text: 'Goodbye', payload: 'bye' },
] as const;

/**
 * The bot a fresh emulator runs: one trigger per feature a frontend must render. docs/emulator.md lists
 * the triggers; test/integration/genesys/emulator-script.test.ts checks that they answer as documented.
 *
 * Every message it sends has a `text`, cards and files included (the card's title, the file's name):
 * no public sample shows whether Genesys puts one on those, and clients that read `text` as a string
 * fail without it. A script that must show the bare shapes can send them (a reply without text).
 */
export const DEFAULT_SCRIPT: BotScript = {
  name: 'default',
  greeting: [
    {
      typingMs: 800,
      text: "Hi! I'm the Genesys emulator's bot. Type menu, card, carousel, file, agent, slow or bye, or pick one:",
      quickReplies: MENU,
    },
  ],
  rules: [
    {
      match: { regex: '^\\s*(menu|help|options)\\b' },
      replies: [{ typingMs: 400, text: 'Here is what I can do:', quickReplies: MENU }],
    },
    {
      match: { regex: '\\bcard\\b' },
      replies: [
        {
          typingMs: 600,
          text: 'Order #1042',
          card: cardOf('Order #1042', 'Shipped yesterday, arriving Friday.', 'Track', 'order-1042'),
        },
      ],
    },
    {
      match: { regex: '\\bcarousel\\b' },
      replies: [
        {
          typingMs: 700,
          text: 'Some plans to compare:',
          carousel: {
            cards: [
              cardOf('Basic', '5 GB, 1 user', 'Choose Basic', 'plan'),
              cardOf('Plus', '50 GB, 5 users', 'Choose Plus', 'plan'),
              cardOf('Pro', '1 TB, unlimited users', 'Choose Pro', 'plan'),
            ],
          },
        },
      ],
    },
    {
      match: { payload: 'order-1042' },
      replies: [{ typingMs: 300, text: 'Order #1042 is with the courier and arrives on Friday.' }],
    },
    {
      match: { payload: 'plan' },
      replies: [{ typingMs: 300, text: 'Good choice! A colleague will send you the contract.' }],
    },
    {
      match: { regex: '\\b(file|attachment|pdf)\\b' },
      replies: [
        { typingMs: 500, text: 'Here is your invoice.' },
        {
          text: 'invoice-1042.pdf',
          attachment: { filename: 'invoice-1042.pdf', mime: 'application/pdf', mediaType: 'File' },
        },
        {
          delayMs: 300,
          text: 'logo.png',
          attachment: { filename: 'logo.png', mime: 'image/png', mediaType: 'Image' },
        },
      ],
    },
    {
      match: { regex: '\\b(agent|human|person)\\b' },
      replies: [
        { typingMs: 500, text: 'Let me find someone for you. One moment…' },
        {
          delayMs: 1500,
          from: 'agent',
          nickname: 'Alex',
          typingMs: 1200,
          text: "Hi, I'm Alex. How can I help?",
        },
      ],
    },
    {
      match: { equals: 'slow' },
      replies: [
        { typingMs: 3000, text: 'That took a while to type.' },
        { delayMs: 2000, text: 'And this came two seconds later, without typing.' },
      ],
    },
    {
      match: { regex: '\\b(bye|goodbye)\\b' },
      replies: [{ typingMs: 400, text: 'Goodbye! This conversation is now closed.', disconnect: {} }],
    },
  ],
  fallback: [{ typingMs: 500, text: 'Sorry, I did not get that. Type menu to see what I can do.' }],
};

function cardOf(title: string, description: string, button: string, payload: string) {
  return {
    title,
    description,
    // No image: a page showing the card would fetch it, and nothing here may reach beyond this machine.
    actions: [
      { type: 'Postback' as const, text: button, payload },
      { type: 'Link' as const, text: 'Details', url: 'https://example.com/details' },
    ],
  };
}
