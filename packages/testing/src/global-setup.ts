// placeholder replaced below
export = async function globalSetup(): Promise<void> {};
