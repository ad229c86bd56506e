// Drives procore-sim with Procore's official JavaScript SDK (@procore/js-sdk), as a Procore
// developer would drive a sandbox: only the SDK's base URL is changed. Run by tests/sim/sdk.rs,
// which asserts on the lines printed here and on the simulator's state.
//
// Usage: node drive.js <base-url> <client-id> <client-secret> <redirect-uri> <company-id>
// Prints one JSON object per step (`{"step": ..., ...}`) and exits non-zero on the first
// failure, printing `{"step": ..., "error": ...}`.
'use strict';

const sdk = require('@procore/js-sdk');

const [base, clientId, clientSecret, redirectUri, companyArg] = process.argv.slice(2);
if (!companyArg) {
  console.error('usage: node drive.js <base-url> <client-id> <client-secret> <redirect-uri> <company-id>');
  process.exit(2);
}
const companyId = Number(companyArg);
const options = { apiHostname: base, defaultCompanyId: companyId };

function say(step, fields) {
  console.log(JSON.stringify(Object.assign({ step }, fields)));
}

// The SDK resolves with {body, response} and rejects with the same shape on a non-2xx answer.
async function call(step, promise) {
  try {
    return await promise;
  } catch (e) {
    const status = e && e.response ? e.response.status : undefined;
    const detail = e && e.body !== undefined ? e.body : String(e);
    throw new Error(`${step}: ${status} ${JSON.stringify(detail)}`);
  }
}

async function main() {
  // The browser step of the authorization-code flow: the user opens the SDK's authorize URL
  // and Procore redirects back with a code. The simulator approves at once.
  const authorizeUrl = sdk.authorize({ clientId, uri: redirectUri }, options);
  const approval = await fetch(authorizeUrl, { redirect: 'manual' });
  const location = approval.headers.get('location');
  if (approval.status !== 302 || !location) {
    throw new Error(`authorize: expected a 302 with a Location, got ${approval.status}`);
  }
  const code = new URL(location).searchParams.get('code');
  say('authorize', { status: approval.status, code_received: Boolean(code) });

  const grant = await sdk.token({ id: clientId, secret: clientSecret, code, uri: redirectUri }, options);
  if (!grant.access_token) {
    throw new Error(`token: no access token in ${JSON.stringify(grant)}`);
  }
  say('token', { token_type: grant.token_type, expires_in: grant.expires_in, has_refresh: Boolean(grant.refresh_token) });

  const tokenInfo = await sdk.info(grant.access_token, options);
  say('token_info', { resource_owner_id: tokenInfo.resource_owner_id, uid: tokenInfo.application && tokenInfo.application.uid });

  const client = sdk.client(sdk.oauth(grant.access_token), {}, options);

  const me = await call('me', client.get({ base: '/me' }));
  say('me', { id: me.body.id, login: me.body.login });

  const companies = await call('companies', client.get({ base: '/companies' }));
  say('companies', { ids: companies.body.map((c) => c.id) });

  const projects = await call('projects', client.get({ base: '/projects', qs: { company_id: companyId } }));
  say('projects', {
    total: Number(projects.response.headers.get('Total')),
    names: projects.body.map((p) => p.name),
  });
  const project = projects.body.find((p) => p.name === 'Harbor Tower') || projects.body[0];

  const users = await call('users', client.get({ base: '/companies/{company_id}/users', params: { company_id: companyId } }));
  say('users', { total: Number(users.response.headers.get('Total')), count: users.body.length });

  const usersV11 = await call('users_v11', client.get({
    base: '/companies/{company_id}/users', params: { company_id: companyId }, version: 'v1.1',
  }));
  say('users_v11', { count: usersV11.body.length });

  const vendors = await call('vendors', client.get({ base: '/vendors', qs: { company_id: companyId } }));
  say('vendors', { total: Number(vendors.response.headers.get('Total')), names: vendors.body.map((v) => v.name) });

  const projectUsers = await call('project_users', client.get({
    base: '/projects/{project_id}/users', params: { project_id: project.id },
  }));
  say('project_users', { project_id: project.id, count: projectUsers.body.length });

  const projectVendors = await call('project_vendors', client.get({
    base: '/projects/{project_id}/vendors', params: { project_id: project.id },
  }));
  say('project_vendors', { project_id: project.id, names: projectVendors.body.map((v) => v.name) });

  const commitments = await call('commitments', client.get({ base: '/commitments', qs: { project_id: project.id } }));
  say('commitments', { count: commitments.body.length });

  const folderName = `SDK Folder ${process.pid}`;
  const folder = await call('create_folder', client.post(
    { base: '/folders', qs: { project_id: project.id } },
    { folder: { name: folderName } },
  ));
  say('create_folder', { status: folder.response.status, id: folder.body.id, name: folder.body.name, project_id: project.id });

  const documents = await call('documents', client.get({
    base: '/projects/{project_id}/documents',
    params: { project_id: project.id },
    qs: { filters: { document_type: 'folder', search: folderName } },
  }));
  say('documents', { ids: documents.body.map((d) => d.id) });

  const refreshed = await sdk.refresh({
    id: clientId, secret: clientSecret, uri: redirectUri, token: grant.access_token, refresh: grant.refresh_token,
  }, options);
  say('refresh', { has_access: Boolean(refreshed.access_token) });

  await sdk.revoke({ token: refreshed.access_token, clientId, clientSecret }, options);
  const revoked = sdk.client(sdk.oauth(refreshed.access_token), {}, options);
  const status = await revoked.get({ base: '/me' }).then(() => 'accepted', (e) => e.response.status);
  say('revoke', { revoked_token_status: status });
}

main().catch((e) => {
  say('failed', { error: e && e.message ? e.message : String(e) });
  process.exit(1);
});
