/**
 * The conversation's participant data (the customer's attributes), read through Genesys' Platform API
 * with an OAuth client (client credentials): the message's details name its conversation, whose
 * customer participant carries the attributes. Works the same against Genesys Cloud and the emulator.
 */
import { regionDomain } from '../../src/genesys/client/index.js';

export interface PlatformApiConfig {
  /** Where `POST /oauth/token` is (Genesys: https://login.<domain>; the emulator: <base>/login). */
  readonly loginUrl: string;
  /** Where `/api/v2/…` is (Genesys: https://api.<domain>; the emulator: its base URL). */
  readonly apiUrl: string;
  readonly clientId: string;
  /** A credential: never logged, never in an error message. */
  readonly clientSecret: string;
}

/** The Platform API of a Genesys region (a name such as eu_west_1, or a domain such as mypurecloud.ie). */
export function platformApiForRegion(
  region: string,
  clientId: string,
  clientSecret: string,
): PlatformApiConfig {
  const domain = regionDomain(region);
  if (domain === undefined) throw new Error(`unknown Genesys region "${region}"`);
  return { loginUrl: `https://login.${domain}`, apiUrl: `https://api.${domain}`, clientId, clientSecret };
}

/** The Genesys emulator's Platform API with its built-in OAuth client (docs/emulator.md). */
export function emulatorPlatformApi(emulatorUrl: string): PlatformApiConfig {
  return {
    apiUrl: emulatorUrl,
    loginUrl: `${emulatorUrl}/login`,
    clientId: 'emulator-client',
    clientSecret: 'emulator-secret',
  };
}

export class ParticipantData {
  readonly #config: PlatformApiConfig;
  #token: { value: string; until: number } | undefined;

  constructor(config: PlatformApiConfig) {
    this.#config = config;
  }

  /** The customer's attributes in the conversation that holds `messageId` (a Genesys message id). */
  async forMessage(messageId: string): Promise<Record<string, string>> {
    const details = (await this.#get(
      `/api/v2/conversations/messages/${encodeURIComponent(messageId)}/details`,
    )) as {
      conversationId?: string;
    };
    if (!details.conversationId) throw new Error(`Genesys names no conversation for message ${messageId}`);
    const conversation = (await this.#get(
      `/api/v2/conversations/messages/${encodeURIComponent(details.conversationId)}`,
    )) as { participants?: { purpose?: string; attributes?: Record<string, string> }[] };
    const customer = conversation.participants?.find((p) => p.purpose === 'customer');
    return customer?.attributes ?? {};
  }

  async #get(path: string): Promise<unknown> {
    const response = await fetch(`${this.#config.apiUrl}${path}`, {
      headers: { authorization: `Bearer ${await this.#accessToken()}` },
    });
    if (!response.ok)
      throw new Error(
        `Genesys Platform API answered ${response.status} to GET ${path.split('/').slice(0, 5).join('/')}/…`,
      );
    return response.json();
  }

  async #accessToken(): Promise<string> {
    if (this.#token !== undefined && this.#token.until > Date.now()) return this.#token.value;
    const basic = Buffer.from(`${this.#config.clientId}:${this.#config.clientSecret}`).toString('base64');
    const response = await fetch(`${this.#config.loginUrl}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    if (!response.ok)
      throw new Error(`Genesys refused the OAuth client ${this.#config.clientId} (HTTP ${response.status})`);
    const body = (await response.json()) as { access_token: string; expires_in?: number };
    this.#token = { value: body.access_token, until: Date.now() + ((body.expires_in ?? 3600) - 60) * 1000 };
    return body.access_token;
  }
}
